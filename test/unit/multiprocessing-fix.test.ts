import { App, Aspects, CfnParameter, NestedStack, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { newApp, newStack, PRELOAD, pythonFunction, sharedOutdir } from './util';
import { FunctionFilter, LibraryBuild, MultiprocessingFix, ShmRedirectLayer, withMultiprocessingFix } from '../../src';

const outdir = sharedOutdir();
let app: App;
beforeEach(() => {
  app = newApp(outdir);
});

const VERSION = new ShmRedirectLayer(new Stack(), 'Probe').libraryVersion;

function layerIdOf(template: Template, architecture: string): string {
  const layers = template.findResources('AWS::Lambda::LayerVersion', {
    Properties: { CompatibleArchitectures: [architecture] },
  });
  const ids = Object.keys(layers);
  expect(ids).toHaveLength(1);
  return ids[0];
}

function functionProps(template: Template, fn: lambda.Function): any {
  const id = fn.stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
  return template.toJSON().Resources[id].Properties;
}

describe('per-architecture layers', () => {
  test('x86_64 and arm64 Python functions each get the layer of their architecture and LD_PRELOAD', () => {
    const stack = newStack(app);
    const x86 = pythonFunction(stack, 'X86');
    const arm = pythonFunction(stack, 'Arm', { architecture: lambda.Architecture.ARM_64 });
    withMultiprocessingFix(stack);
    const template = Template.fromStack(stack);

    template.resourceCountIs('AWS::Lambda::LayerVersion', 2);
    template.hasResourceProperties('AWS::Lambda::LayerVersion', {
      CompatibleArchitectures: ['x86_64'],
      Description: Match.stringLikeRegexp(`^shm_redirect ${VERSION.replace(/\./g, '\\.')} \\(x86_64\\)`),
    });
    template.hasResourceProperties('AWS::Lambda::LayerVersion', {
      CompatibleArchitectures: ['arm64'],
      Description: Match.stringLikeRegexp(`^shm_redirect ${VERSION.replace(/\./g, '\\.')} \\(arm64\\)`),
    });
    expect(functionProps(template, x86).Layers).toEqual([{ Ref: layerIdOf(template, 'x86_64') }]);
    expect(functionProps(template, arm).Layers).toEqual([{ Ref: layerIdOf(template, 'arm64') }]);
    for (const fn of [x86, arm]) {
      expect(functionProps(template, fn).Environment).toEqual({ Variables: { LD_PRELOAD: PRELOAD } });
    }
  });

  test('an app with only x86_64 functions has no arm64 layer, and functions share one layer', () => {
    const stack = newStack(app);
    pythonFunction(stack, 'A');
    pythonFunction(stack, 'B', { runtime: lambda.Runtime.PYTHON_3_10 });
    withMultiprocessingFix(stack);
    const template = Template.fromStack(stack);

    template.resourceCountIs('AWS::Lambda::LayerVersion', 1);
    const layerId = layerIdOf(template, 'x86_64');
    template.allResourcesProperties('AWS::Lambda::Function', { Layers: [{ Ref: layerId }] });
  });

  test('every stack gets its own layer; a nested stack too', () => {
    const first = newStack(app, 'First');
    const second = newStack(app, 'Second');
    const nested = new NestedStack(first, 'Nested');
    pythonFunction(first, 'Fn');
    pythonFunction(second, 'Fn');
    const inner = pythonFunction(nested, 'Fn', { architecture: lambda.Architecture.ARM_64 });
    withMultiprocessingFix(app);

    for (const stack of [first, second]) {
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::Lambda::LayerVersion', 1);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Layers: [{ Ref: layerIdOf(template, 'x86_64') }],
        Environment: { Variables: { LD_PRELOAD: PRELOAD } },
      });
    }
    const nestedTemplate = Template.fromStack(nested);
    expect(functionProps(nestedTemplate, inner).Layers).toEqual([{ Ref: layerIdOf(nestedTemplate, 'arm64') }]);
  });
});

describe('which functions', () => {
  test('only the Python family by default', () => {
    const stack = newStack(app);
    const node = new lambda.Function(stack, 'Node', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => null;'),
    });
    pythonFunction(stack, 'Py');
    withMultiprocessingFix(stack);
    const template = Template.fromStack(stack);

    expect(functionProps(template, node).Layers).toBeUndefined();
    expect(functionProps(template, node).Environment).toBeUndefined();
    template.resourceCountIs('AWS::Lambda::LayerVersion', 1);
  });

  test('allRuntimes, runtimes and a custom filter', () => {
    const stack = newStack(app);
    const custom = new lambda.Function(stack, 'Custom', {
      runtime: lambda.Runtime.PROVIDED_AL2023,
      handler: 'bootstrap',
      code: lambda.Code.fromBucket(s3.Bucket.fromBucketName(stack, 'Code', 'code-bucket'), 'bootstrap.zip'),
    });
    const py312 = pythonFunction(stack, 'Py312');
    const py311 = pythonFunction(stack, 'Py311', { runtime: lambda.Runtime.PYTHON_3_11 });
    const skipped = pythonFunction(stack, 'Skipped');

    const scopeA = new Construct(stack, 'A');
    MultiprocessingFix.applyTo(custom, { filter: FunctionFilter.allRuntimes() });
    MultiprocessingFix.applyTo(py312, { filter: FunctionFilter.runtimes([lambda.Runtime.PYTHON_3_11]) });
    MultiprocessingFix.applyTo(py311, { filter: FunctionFilter.runtimes([lambda.Runtime.PYTHON_3_11]) });
    MultiprocessingFix.applyTo(skipped, { filter: { includes: (fn) => fn.node.id !== 'Skipped' } });
    MultiprocessingFix.applyTo(scopeA);
    const template = Template.fromStack(stack);

    expect(functionProps(template, custom).Environment).toEqual({ Variables: { LD_PRELOAD: PRELOAD } });
    expect(functionProps(template, py311).Environment).toEqual({ Variables: { LD_PRELOAD: PRELOAD } });
    expect(functionProps(template, py312).Environment).toBeUndefined();
    expect(functionProps(template, skipped).Environment).toBeUndefined();
  });

  test('a function one fix\'s filter leaves out is fixed by another fix that takes it, whichever visits first', () => {
    const stack = newStack(app);
    const inner = new Construct(stack, 'Inner');
    const custom = new lambda.Function(inner, 'Custom', {
      runtime: lambda.Runtime.PROVIDED_AL2023,
      handler: 'bootstrap',
      code: lambda.Code.fromBucket(s3.Bucket.fromBucketName(stack, 'Code', 'code-bucket'), 'bootstrap.zip'),
    });
    const py = pythonFunction(inner, 'Py');
    // The stack's aspect visits both functions before the inner ones do.
    MultiprocessingFix.applyTo(stack, { filter: { includes: (fn) => fn.node.id === 'Py' } });
    MultiprocessingFix.applyTo(inner, { filter: FunctionFilter.runtimes([lambda.Runtime.PROVIDED_AL2023]) });
    MultiprocessingFix.applyTo(custom, { filter: FunctionFilter.allRuntimes() });
    const template = Template.fromStack(stack);

    for (const fn of [custom, py]) {
      expect(functionProps(template, fn).Environment).toEqual({ Variables: { LD_PRELOAD: PRELOAD } });
      expect(functionProps(template, fn).Layers).toHaveLength(1);
    }
  });

  test('SingletonFunction: its function is fixed even when the aspect is applied to the wrapper only', () => {
    const stack = newStack(app);
    const singleton = new lambda.SingletonFunction(stack, 'Singleton', {
      uuid: '6d5d9a32-7d42-4a39-9a17-4f6bb6c1b9a5',
      runtime: lambda.Runtime.PYTHON_3_12,
      handler: 'index.handler',
      code: lambda.Code.fromInline('def handler(event, context):\n    return None\n'),
    });
    withMultiprocessingFix(singleton);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Layers: [{ Ref: layerIdOf(template, 'x86_64') }],
      Environment: { Variables: { LD_PRELOAD: PRELOAD } },
    });
  });

  test('functions created inside third-party constructs', () => {
    class ThirdParty extends Construct {
      public constructor(scope: Construct, id: string) {
        super(scope, id);
        pythonFunction(new Construct(this, 'Deep'), 'Handler');
      }
    }
    const stack = newStack(app);
    new ThirdParty(stack, 'Vendor');
    withMultiprocessingFix(stack);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { LD_PRELOAD: PRELOAD } },
    });
  });
});

describe('a function named explicitly that the filter excludes', () => {
  function nodeFunction(scope: Construct, id: string): lambda.Function {
    return new lambda.Function(scope, id, {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => null;'),
    });
  }

  test('withMultiprocessingFix(fn): a warning naming the function, its runtime and the filter that would include it', () => {
    const stack = newStack(app);
    const node = nodeFunction(stack, 'Node');
    withMultiprocessingFix(node);
    const template = Template.fromStack(stack);

    Annotations.fromStack(stack).hasWarning(
      '/Stack/Node',
      Match.stringLikeRegexp(
        'Stack/Node \\(runtime nodejs22\\.x\\) was given to MultiprocessingFix by name, but the default filter .*Python runtimes.*'
        + 'FunctionFilter\\.runtimes\\(\\[Runtime\\.NODEJS_22_X\\]\\).*FunctionFilter\\.allRuntimes\\(\\)',
      ),
    );
    expect(functionProps(template, node).Environment).toBeUndefined();
  });

  test('MultiprocessingFix.applyTo(fn) with a filter of the user: the warning names the filter option', () => {
    const stack = newStack(app);
    const py = pythonFunction(stack, 'Py311', { runtime: lambda.Runtime.PYTHON_3_11 });
    MultiprocessingFix.applyTo(py, { filter: FunctionFilter.runtimes([lambda.Runtime.PYTHON_3_12]) });
    Template.fromStack(stack);

    Annotations.fromStack(stack).hasWarning(
      '/Stack/Py311',
      Match.stringLikeRegexp('Stack/Py311 \\(runtime python3\\.11\\).*the `filter` option given excludes it.*Runtime\\.PYTHON_3_11'),
    );
  });

  test('a runtime without a constant is spelled with its constructor', () => {
    const stack = newStack(app);
    const fn = pythonFunction(stack, 'Future', {
      runtime: new lambda.Runtime('nodejs99.x', lambda.RuntimeFamily.NODEJS),
      code: lambda.Code.fromBucket(s3.Bucket.fromBucketName(stack, 'Code', 'code-bucket'), 'future.zip'),
    });
    withMultiprocessingFix(fn);
    Template.fromStack(stack);
    Annotations.fromStack(stack).hasWarning('/Stack/Future', Match.stringLikeRegexp("FunctionFilter\\.runtimes\\(\\[new Runtime\\('nodejs99\\.x'\\)\\]\\)"));
  });

  test('a SingletonFunction named explicitly is named in the warning by its function', () => {
    const stack = newStack(app);
    const singleton = new lambda.SingletonFunction(stack, 'Singleton', {
      uuid: '0b4a41e5-4b53-4c4c-9d0c-1d2f0c7a9e11',
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => null;'),
    });
    withMultiprocessingFix(singleton);
    Template.fromStack(stack);
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('SingletonLambda0b4a41e5.* \\(runtime nodejs22\\.x\\) was given to MultiprocessingFix by name'));
  });

  test('a stack, an app or another construct as scope stays silent for the functions it skips', () => {
    const stack = newStack(app);
    nodeFunction(stack, 'Node');
    const group = new Construct(stack, 'Group');
    nodeFunction(group, 'GroupNode');
    pythonFunction(stack, 'Py');
    withMultiprocessingFix(stack);
    withMultiprocessingFix(app);
    withMultiprocessingFix(group);
    Template.fromStack(stack);
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });

  test('excluded by one fix, included by another: fixed, and no warning from the scope that skipped it', () => {
    const stack = newStack(app);
    const node = nodeFunction(stack, 'Node');
    withMultiprocessingFix(stack);
    MultiprocessingFix.applyTo(node, { filter: FunctionFilter.allRuntimes() });
    const template = Template.fromStack(stack);

    expect(functionProps(template, node).Environment).toEqual({ Variables: { LD_PRELOAD: PRELOAD } });
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });
});

describe('environment', () => {
  test('an existing LD_PRELOAD is kept and ours appended; other variables are untouched', () => {
    const stack = newStack(app);
    const fn = pythonFunction(stack, 'Fn', { environment: { LD_PRELOAD: '/opt/lib/other.so', OTHER: '1' } });
    withMultiprocessingFix(stack);
    expect(functionProps(Template.fromStack(stack), fn).Environment).toEqual({
      Variables: { LD_PRELOAD: `/opt/lib/other.so:${PRELOAD}`, OTHER: '1' },
    });
  });

  test('an LD_PRELOAD that already names the library is left alone', () => {
    const stack = newStack(app);
    const fn = pythonFunction(stack, 'Fn', { environment: { LD_PRELOAD: `/opt/a.so ${PRELOAD}` } });
    withMultiprocessingFix(stack);
    const props = functionProps(Template.fromStack(stack), fn);
    expect(props.Environment).toEqual({ Variables: { LD_PRELOAD: `/opt/a.so ${PRELOAD}` } });
    expect(props.Layers).toBeUndefined();
  });

  test('an LD_PRELOAD from a token is joined with ours', () => {
    const stack = newStack(app);
    const param = new CfnParameter(stack, 'Preload', { type: 'String' });
    const fn = pythonFunction(stack, 'Fn', { environment: { LD_PRELOAD: param.valueAsString } });
    withMultiprocessingFix(stack);
    expect(functionProps(Template.fromStack(stack), fn).Environment.Variables.LD_PRELOAD).toEqual({
      'Fn::Join': ['', [{ Ref: 'Preload' }, `:${PRELOAD}`]],
    });
  });
});

describe('idempotence', () => {
  function build(apply: (app: App, stack: Stack, fn: lambda.Function) => void): any {
    const localApp = newApp(outdir);
    const stack = newStack(localApp);
    const inner = new Construct(stack, 'Inner');
    const fn = pythonFunction(inner, 'Fn', { environment: { LD_PRELOAD: '/opt/x.so' } });
    pythonFunction(stack, 'Other', { architecture: lambda.Architecture.ARM_64 });
    apply(localApp, stack, fn);
    return Template.fromStack(stack).toJSON();
  }

  test('applying twice, or on nested scopes, gives the same template as applying once', () => {
    const once = build((_app, stack) => withMultiprocessingFix(stack));
    const many = build((localApp, stack, fn) => {
      withMultiprocessingFix(stack);
      withMultiprocessingFix(stack);
      withMultiprocessingFix(localApp);
      withMultiprocessingFix(fn.node.scope as Construct);
      Aspects.of(fn).add(new MultiprocessingFix());
    });
    expect(many).toEqual(once);
    const fnProps = Object.values(once.Resources as Record<string, any>).find(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.LD_PRELOAD?.startsWith('/opt/x.so'),
    );
    expect(fnProps.Properties.Environment.Variables.LD_PRELOAD).toBe(`/opt/x.so:${PRELOAD}`);
    expect(fnProps.Properties.Layers).toHaveLength(1);
  });
});

describe('functions that cannot take the fix', () => {
  test('container image functions get a warning naming them and the one-line fix, and no layer', () => {
    const stack = newStack(app);
    const repo = ecr.Repository.fromRepositoryName(stack, 'Repo', 'my-image');
    const image = new lambda.DockerImageFunction(stack, 'Image', { code: lambda.DockerImageCode.fromEcr(repo) });
    withMultiprocessingFix(stack);
    const template = Template.fromStack(stack);

    Annotations.fromStack(stack).hasWarning(
      '/Stack/Image',
      Match.stringLikeRegexp('Stack/Image is a container image function.*MultiprocessingImageCode.fromImageAsset.*COPY --from=shm-redirect /opt /opt'),
    );
    expect(functionProps(template, image).Layers).toBeUndefined();
    expect(functionProps(template, image).Environment).toBeUndefined();
    template.resourceCountIs('AWS::Lambda::LayerVersion', 0);
  });

  test('Lambda@Edge in us-east-1: a warning and no layer or environment, so synthesis still succeeds', () => {
    const stack = newStack(app, 'Edge', { env: { region: 'us-east-1', account: '111111111111' } });
    const edge = new cloudfront.experimental.EdgeFunction(stack, 'EdgeFn', {
      runtime: lambda.Runtime.PYTHON_3_12,
      handler: 'index.handler',
      code: lambda.Code.fromInline('def handler(event, context):\n    return None\n'),
    });
    new cloudfront.Distribution(stack, 'Dist', {
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(new s3.Bucket(stack, 'Bucket')),
        edgeLambdas: [{ functionVersion: edge.currentVersion, eventType: cloudfront.LambdaEdgeEventType.VIEWER_REQUEST }],
      },
    });
    withMultiprocessingFix(stack);
    const template = Template.fromStack(stack);

    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('Edge/EdgeFn/Fn is a Lambda@Edge function'));
    template.resourceCountIs('AWS::Lambda::LayerVersion', 0);
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: Match.absent(), Layers: Match.absent() });
  });

  test('Lambda@Edge from another region (function in the edge stack) is recognised by its role', () => {
    const stack = newStack(app, 'Site', { env: { region: 'eu-west-1', account: '111111111111' } });
    new cloudfront.experimental.EdgeFunction(stack, 'EdgeFn', {
      runtime: lambda.Runtime.PYTHON_3_12,
      handler: 'index.handler',
      code: lambda.Code.fromInline('def handler(event, context):\n    return None\n'),
    });
    withMultiprocessingFix(app);
    const edgeStack = app.node.children.find((c) => c instanceof Stack && c !== stack) as Stack;
    Annotations.fromStack(edgeStack).hasWarning('*', Match.stringLikeRegexp('is a Lambda@Edge function'));
    Template.fromStack(edgeStack).resourceCountIs('AWS::Lambda::LayerVersion', 0);
  });

  test('a function that would exceed 5 layers gets an error; one with 4 gets the layer', () => {
    const stack = newStack(app);
    const others = [1, 2, 3, 4, 5].map((n) =>
      lambda.LayerVersion.fromLayerVersionArn(stack, `L${n}`, `arn:aws:lambda:us-east-1:111111111111:layer:l${n}:1`),
    );
    const full = pythonFunction(stack, 'Full', { layers: others });
    const four = pythonFunction(stack, 'Four', { layers: others.slice(0, 4) });
    withMultiprocessingFix(stack);
    const template = Template.fromStack(stack);

    Annotations.fromStack(stack).hasError('/Stack/Full', Match.stringLikeRegexp('Stack/Full already has 5 layers'));
    expect(functionProps(template, full).Layers).toHaveLength(5);
    expect(functionProps(template, full).Environment).toBeUndefined();
    expect(functionProps(template, four).Layers).toHaveLength(5);
    expect(functionProps(template, four).Environment).toEqual({ Variables: { LD_PRELOAD: PRELOAD } });
  });
});

describe('a user-given layer', () => {
  test('is used instead of the per-stack one', () => {
    const stack = newStack(app);
    const layer = new ShmRedirectLayer(stack, 'Mine');
    pythonFunction(stack, 'Fn');
    withMultiprocessingFix(stack, { layer });
    const template = Template.fromStack(stack);

    template.resourceCountIs('AWS::Lambda::LayerVersion', 1);
    expect(layerIdOf(template, 'x86_64')).toMatch(/^MineX8664/);
  });

  test('in another stack: an error annotation, no cross-stack reference', () => {
    const layerStack = newStack(app, 'Layers');
    const fnStack = newStack(app, 'Functions');
    const layer = new ShmRedirectLayer(layerStack, 'Shared');
    new s3.Bucket(layerStack, 'KeepsTheStackNonEmpty');
    pythonFunction(fnStack, 'Fn');
    withMultiprocessingFix(fnStack, { layer });

    Annotations.fromStack(fnStack).hasError('/Functions/Fn', Match.stringLikeRegexp('serves the functions of its own stack only.*ShmRedirectLayerPublisher'));
    Template.fromStack(fnStack).hasResourceProperties('AWS::Lambda::Function', { Layers: Match.absent() });
    Template.fromStack(layerStack).resourceCountIs('AWS::Lambda::LayerVersion', 0);
  });

  test('layer and layerProps together are refused', () => {
    const stack = newStack(app);
    expect(() => new MultiprocessingFix({ layer: new ShmRedirectLayer(stack, 'L'), layerProps: {} })).toThrow(/either `layer` or `layerProps`/);
  });

  test('ShmRedirectLayer.of refuses other props for the stack layer it already made', () => {
    const stack = newStack(app);
    const shared = ShmRedirectLayer.of(stack);
    expect(ShmRedirectLayer.of(new Construct(stack, 'Sub'))).toBe(shared);
    expect(() => ShmRedirectLayer.of(stack, { libraryBuild: LibraryBuild.DOCKER })).toThrow(/created with other bundling props/);
  });
});
