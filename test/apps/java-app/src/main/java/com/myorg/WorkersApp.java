// A Java CDK app using cdk-lambda-multiprocessing; run.sh synthesizes it and checks its templates with
// test/apps/python-app's checks. The part between the java-snippet markers is the README's Java usage
// (test/apps/readme-snippet.sh keeps the two identical).
package com.myorg;

import java.util.List;

import io.github.cdklambdamultiprocessing.FunctionFilter;
import io.github.cdklambdamultiprocessing.IFunctionFilter;
import io.github.cdklambdamultiprocessing.MultiprocessingFixOptions;
import io.github.cdklambdamultiprocessing.ShmRedirectLayerArns;
import io.github.cdklambdamultiprocessing.ShmRedirectLayers;
import software.amazon.awscdk.App;
import software.amazon.awscdk.services.lambda.SingletonFunction;

// java-snippet:start
import java.util.Map;

import io.github.cdklambdamultiprocessing.MultiprocessingFix;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.services.lambda.Architecture;
import software.amazon.awscdk.services.lambda.Code;
import software.amazon.awscdk.services.lambda.Function;
import software.amazon.awscdk.services.lambda.Runtime;
import software.constructs.Construct;

class WorkersStack extends Stack {
    WorkersStack(final Construct scope, final String id) {
        super(scope, id);
        Map.of("X86", Architecture.X86_64, "Arm", Architecture.ARM_64).forEach((name, arch) ->
                Function.Builder.create(this, "Workers" + name)
                        .runtime(Runtime.PYTHON_3_12)
                        .architecture(arch)
                        .handler("index.handler")
                        .code(Code.fromAsset("functions"))
                        .build());
        // Every Python function in the stack: the layer of its architecture
        // and LD_PRELOAD=/opt/lib/shm_redirect.so.
        MultiprocessingFix.applyTo(this);
    }
}

// java-snippet:end

class OneFunctionStack extends Stack {
    OneFunctionStack(final Construct scope, final String id) {
        super(scope, id);
        Function pool = Function.Builder.create(this, "Pool")
                .runtime(Runtime.PYTHON_3_11)
                .handler("index.handler")
                .code(Code.fromAsset("functions"))
                .environment(Map.of("LD_PRELOAD", "/opt/lib/libother.so"))
                .build();
        Function.Builder.create(this, "Untouched")
                .runtime(Runtime.PYTHON_3_11)
                .handler("index.handler")
                .code(Code.fromAsset("functions"))
                .build();
        // Only this function; an LD_PRELOAD it already has is kept.
        MultiprocessingFix.applyTo(pool);
    }
}

/** A SingletonFunction is fixed through the function it wraps. */
class SingletonStack extends Stack {
    SingletonStack(final Construct scope, final String id) {
        super(scope, id);
        SingletonFunction once = SingletonFunction.Builder.create(this, "Once")
                .uuid("0c2b8a34-52e7-4c55-9a43-8f1c4e0b6a11")
                .runtime(Runtime.PYTHON_3_12)
                .handler("index.handler")
                .code(Code.fromInline("def handler(event, context):\n    return None\n"))
                .build();
        MultiprocessingFix.applyTo(once);
    }
}

/** Which functions each filter selects: the default (Python runtimes), a ready-made one and the app's own. */
class FiltersStack extends Stack {
    FiltersStack(final Construct scope, final String id) {
        super(scope, id);
        Function node = Function.Builder.create(this, "Node")
                .runtime(Runtime.NODEJS_LATEST)
                .handler("index.handler")
                .code(Code.fromInline("exports.handler = async () => null;"))
                .build();
        Function custom = Function.Builder.create(this, "Custom")
                .runtime(Runtime.PROVIDED_AL2023)
                .architecture(Architecture.ARM_64)
                .handler("bootstrap")
                .code(Code.fromAsset("functions"))
                .build();
        for (String name : List.of("Picked", "Skipped")) {
            Function.Builder.create(this, name)
                    .runtime(Runtime.PYTHON_3_12)
                    .handler("index.handler")
                    .code(Code.fromInline("def handler(event, context):\n    return None\n"))
                    .build();
        }
        MultiprocessingFix.applyTo(node);
        MultiprocessingFix.applyTo(custom, MultiprocessingFixOptions.builder()
                .filter(FunctionFilter.runtimes(List.of(Runtime.PROVIDED_AL2023)))
                .build());
        // A filter written in Java: jsii calls back into it for each function.
        IFunctionFilter picked = fn -> fn.getNode().getId().equals("Picked");
        MultiprocessingFix.applyTo(this, MultiprocessingFixOptions.builder().filter(picked).build());
    }
}

// Layers a platform team published (ShmRedirectLayerPublisher), imported by ARN from another account.
class ImportedStack extends Stack {
    ImportedStack(final Construct scope, final String id) {
        super(scope, id);
        Map.of("X86", Architecture.X86_64, "Arm", Architecture.ARM_64).forEach((name, arch) ->
                Function.Builder.create(this, "Imported" + name)
                        .runtime(Runtime.PYTHON_3_12)
                        .architecture(arch)
                        .handler("index.handler")
                        .code(Code.fromAsset("functions"))
                        .build());
        ShmRedirectLayers layers = ShmRedirectLayers.fromArns(ShmRedirectLayerArns.builder()
                .x86("arn:aws:lambda:eu-west-1:111122223333:layer:shm-redirect-1_0_0-x86_64:3")
                .arm64("arn:aws:lambda:eu-west-1:111122223333:layer:shm-redirect-1_0_0-arm64:4")
                .build());
        MultiprocessingFix.applyTo(this, MultiprocessingFixOptions.builder().layers(layers).build());
    }
}

public final class WorkersApp {
    public static void main(final String[] args) {
        // The output directory comes from CDK_OUTDIR, as under `cdk synth`.
        App app = new App();
        new WorkersStack(app, "Workers");
        new OneFunctionStack(app, "OneFunction");
        new SingletonStack(app, "Singleton");
        new FiltersStack(app, "Filters");
        new ImportedStack(app, "Imported");
        app.synth();
    }
}
