// A Go CDK app using cdk-lambda-multiprocessing through the bindings that
// `npx projen package:go` writes to dist/go (see go.mod's replace directive).
// run.sh synthesizes it and checks its templates with test/apps/python-app's checks.
// The part between the go-snippet markers is the README's Go usage
// (test/apps/readme-snippet.sh keeps the two identical).
package main

// go-snippet:start
import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdk-lambda-multiprocessing/cdk-lambda-multiprocessing-go/cdklambdamultiprocessing"
)

func NewWorkersStack(scope constructs.Construct, id string) awscdk.Stack {
	stack := awscdk.NewStack(scope, jsii.String(id), nil)
	for name, arch := range map[string]awslambda.Architecture{
		"X86": awslambda.Architecture_X86_64(),
		"Arm": awslambda.Architecture_ARM_64(),
	} {
		awslambda.NewFunction(stack, jsii.String("Workers"+name), &awslambda.FunctionProps{
			Runtime:      awslambda.Runtime_PYTHON_3_12(),
			Architecture: arch,
			Handler:      jsii.String("index.handler"),
			Code:         awslambda.Code_FromAsset(jsii.String("functions"), nil),
		})
	}
	// Every Python function in the stack: the layer of its architecture
	// and LD_PRELOAD=/opt/lib/shm_redirect.so.
	cdklambdamultiprocessing.MultiprocessingFix_ApplyTo(stack, nil)
	return stack
}

func NewOneFunctionStack(scope constructs.Construct, id string) awscdk.Stack {
	stack := awscdk.NewStack(scope, jsii.String(id), nil)
	pool := awslambda.NewFunction(stack, jsii.String("Pool"), &awslambda.FunctionProps{
		Runtime:     awslambda.Runtime_PYTHON_3_11(),
		Handler:     jsii.String("index.handler"),
		Code:        awslambda.Code_FromAsset(jsii.String("functions"), nil),
		Environment: &map[string]*string{"LD_PRELOAD": jsii.String("/opt/lib/libother.so")},
	})
	awslambda.NewFunction(stack, jsii.String("Untouched"), &awslambda.FunctionProps{
		Runtime: awslambda.Runtime_PYTHON_3_11(),
		Handler: jsii.String("index.handler"),
		Code:    awslambda.Code_FromAsset(jsii.String("functions"), nil),
	})
	// Only this function; an LD_PRELOAD it already has is kept.
	cdklambdamultiprocessing.MultiprocessingFix_ApplyTo(pool, nil)
	return stack
}

// go-snippet:end

// A SingletonFunction is fixed through the function it wraps.
func NewSingletonStack(scope constructs.Construct, id string) awscdk.Stack {
	stack := awscdk.NewStack(scope, jsii.String(id), nil)
	once := awslambda.NewSingletonFunction(stack, jsii.String("Once"), &awslambda.SingletonFunctionProps{
		Uuid:    jsii.String("0c2b8a34-52e7-4c55-9a43-8f1c4e0b6a11"),
		Runtime: awslambda.Runtime_PYTHON_3_12(),
		Handler: jsii.String("index.handler"),
		Code:    awslambda.Code_FromInline(jsii.String("def handler(event, context):\n    return None\n")),
	})
	cdklambdamultiprocessing.MultiprocessingFix_ApplyTo(once, nil)
	return stack
}

// A filter written in Go: jsii calls back into it for each function. jsii passes Go values to
// JavaScript by reference only when they are pointers to structs.
type namedFunctions struct {
	ids []string
}

func (f *namedFunctions) Includes(fn awslambda.Function) *bool {
	for _, id := range f.ids {
		if id == *fn.Node().Id() {
			return jsii.Bool(true)
		}
	}
	return jsii.Bool(false)
}

// Which functions each filter selects: the default (Python runtimes), a ready-made one and the app's own.
func NewFiltersStack(scope constructs.Construct, id string) awscdk.Stack {
	stack := awscdk.NewStack(scope, jsii.String(id), nil)
	node := awslambda.NewFunction(stack, jsii.String("Node"), &awslambda.FunctionProps{
		Runtime: awslambda.Runtime_NODEJS_LATEST(),
		Handler: jsii.String("index.handler"),
		Code:    awslambda.Code_FromInline(jsii.String("exports.handler = async () => null;")),
	})
	custom := awslambda.NewFunction(stack, jsii.String("Custom"), &awslambda.FunctionProps{
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String("functions"), nil),
	})
	for _, name := range []string{"Picked", "Skipped"} {
		awslambda.NewFunction(stack, jsii.String(name), &awslambda.FunctionProps{
			Runtime: awslambda.Runtime_PYTHON_3_12(),
			Handler: jsii.String("index.handler"),
			Code:    awslambda.Code_FromInline(jsii.String("def handler(event, context):\n    return None\n")),
		})
	}
	cdklambdamultiprocessing.MultiprocessingFix_ApplyTo(node, nil)
	cdklambdamultiprocessing.MultiprocessingFix_ApplyTo(custom, &cdklambdamultiprocessing.MultiprocessingFixOptions{
		Filter: cdklambdamultiprocessing.FunctionFilter_Runtimes(&[]awslambda.Runtime{awslambda.Runtime_PROVIDED_AL2023()}),
	})
	cdklambdamultiprocessing.MultiprocessingFix_ApplyTo(stack, &cdklambdamultiprocessing.MultiprocessingFixOptions{
		Filter: &namedFunctions{ids: []string{"Picked"}},
	})
	return stack
}

// Layers a platform team published (ShmRedirectLayerPublisher), imported by ARN from another account.
func NewImportedStack(scope constructs.Construct, id string) awscdk.Stack {
	stack := awscdk.NewStack(scope, jsii.String(id), nil)
	for name, arch := range map[string]awslambda.Architecture{
		"X86": awslambda.Architecture_X86_64(),
		"Arm": awslambda.Architecture_ARM_64(),
	} {
		awslambda.NewFunction(stack, jsii.String("Imported"+name), &awslambda.FunctionProps{
			Runtime:      awslambda.Runtime_PYTHON_3_12(),
			Architecture: arch,
			Handler:      jsii.String("index.handler"),
			Code:         awslambda.Code_FromAsset(jsii.String("functions"), nil),
		})
	}
	layers := cdklambdamultiprocessing.ShmRedirectLayers_FromArns(&cdklambdamultiprocessing.ShmRedirectLayerArns{
		X86:   jsii.String("arn:aws:lambda:eu-west-1:111122223333:layer:shm-redirect-1_0_0-x86_64:3"),
		Arm64: jsii.String("arn:aws:lambda:eu-west-1:111122223333:layer:shm-redirect-1_0_0-arm64:4"),
	})
	cdklambdamultiprocessing.MultiprocessingFix_ApplyTo(stack, &cdklambdamultiprocessing.MultiprocessingFixOptions{
		Layers: layers,
	})
	return stack
}

func main() {
	defer jsii.Close()
	// The output directory comes from CDK_OUTDIR, as under `cdk synth`.
	app := awscdk.NewApp(nil)
	NewWorkersStack(app, "Workers")
	NewOneFunctionStack(app, "OneFunction")
	NewSingletonStack(app, "Singleton")
	NewFiltersStack(app, "Filters")
	NewImportedStack(app, "Imported")
	app.Synth(nil)
}
