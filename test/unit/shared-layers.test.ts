import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Annotations as CdkAnnotations, App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { newApp, newStack, PRELOAD, pythonFunction, sharedOutdir } from './util';
import {
  MultiprocessingFix,
  ShmRedirectLayer,
  ShmRedirectLayerPublisher,
  ShmRedirectLayers,
  withMultiprocessingFix,
} from '../../src';

const outdir = sharedOutdir();
let app: App;
beforeEach(() => {
  app = newApp(outdir);
});

const VERSION = new ShmRedirectLayer(new Stack(), 'Probe').libraryVersion;
const UNDERSCORED = VERSION.replace(/\./g, '_');
const ENV = { account: '123456789012', region: 'eu-west-1' };
const X86_ARN = `arn:aws:lambda:eu-west-1:111122223333:layer:shm-redirect-${UNDERSCORED}-x86_64:3`;
const ARM_ARN = `arn:aws:lambda:eu-west-1:111122223333:layer:shm-redirect-${UNDERSCORED}-arm64:4`;
const PREFIX = '/cdk-lambda-multiprocessing/shm-redirect';

function functionResource(stack: Stack, fn: lambda.Function): any {
  const id = stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
  return Template.fromStack(stack).toJSON().Resources[id];
}

function armFunction(stack: Stack, id: string): lambda.Function {
  return pythonFunction(stack, id, { architecture: lambda.Architecture.ARM_64 });
}

describe('ShmRedirectLayerPublisher', () => {
  test('one named, licensed, retained layer version per architecture, its description naming the version and the sha256', () => {
    const stack = newStack(app, 'Publisher', { env: ENV });
    const publisher = new ShmRedirectLayerPublisher(stack, 'Shm');
    const template = Template.fromStack(stack);

    template.resourceCountIs('AWS::Lambda::LayerVersion', 2);
    for (const [architecture, id] of [['x86_64', 'X86_64'], ['arm64', 'Arm64']]) {
      const layer = publisher.node.findChild(id) as lambda.LayerVersion;
      const staged = (layer.node.findChild('Code').node.findChild('Stage') as any).absoluteStagedPath;
      const sha256 = crypto.createHash('sha256').update(fs.readFileSync(path.join(staged, 'lib/shm_redirect.so'))).digest('hex');
      template.hasResource('AWS::Lambda::LayerVersion', {
        Properties: {
          LayerName: `shm-redirect-${UNDERSCORED}-${architecture}`,
          LicenseInfo: 'Apache-2.0',
          CompatibleArchitectures: [architecture],
          CompatibleRuntimes: ['python3.10', 'python3.11', 'python3.12', 'python3.13', 'python3.14'],
          Description: `shm_redirect ${VERSION} (${architecture}) sha256:${sha256}: Python multiprocessing on Lambda with LD_PRELOAD=${PRELOAD}`,
        },
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    }
    expect(publisher.libraryVersion).toBe(VERSION);
  });

  test('SSM parameters per architecture, latest and versioned, and an output per architecture', () => {
    const stack = newStack(app, 'Publisher', { env: ENV });
    const publisher = new ShmRedirectLayerPublisher(stack, 'Shm');
    const template = Template.fromStack(stack);
    const layerRef = (id: string) => {
      const layer = publisher.node.findChild(id) as lambda.LayerVersion;
      return { Ref: stack.getLogicalId(layer.node.defaultChild as lambda.CfnLayerVersion) };
    };

    template.resourceCountIs('AWS::SSM::Parameter', 4);
    for (const [architecture, id] of [['x86_64', 'X86_64'], ['arm64', 'Arm64']]) {
      template.hasResource('AWS::SSM::Parameter', {
        Properties: { Name: `${PREFIX}/${architecture}/latest`, Type: 'String', Value: layerRef(id) },
        DeletionPolicy: 'Delete',
      });
      template.hasResource('AWS::SSM::Parameter', {
        Properties: { Name: `${PREFIX}/${architecture}/${VERSION}`, Type: 'String', Value: layerRef(id) },
        DeletionPolicy: 'Retain',
      });
      template.hasOutput('*', { Value: layerRef(id), Description: Match.stringLikeRegexp(`for ${architecture} functions`) });
    }
    expect(publisher.parameterName(lambda.Architecture.ARM_64)).toBe(`${PREFIX}/arm64/latest`);
    expect(publisher.parameterName(lambda.Architecture.X86_64, '0.9.0')).toBe(`${PREFIX}/x86_64/0.9.0`);
  });

  test('permissions for accounts, an organization or everyone, kept with the layer versions', () => {
    const stack = newStack(app, 'Publisher', { env: ENV });
    new ShmRedirectLayerPublisher(stack, 'Shm', {
      architectures: [lambda.Architecture.X86_64],
      shareWithAccounts: ['111122223333', '444455556666'],
      shareWithOrganization: 'o-a1b2c3d4e5',
    });
    const open = newStack(app, 'Open', { env: ENV });
    new ShmRedirectLayerPublisher(open, 'Shm', { architectures: [lambda.Architecture.ARM_64], shareWithEveryone: true });
    const template = Template.fromStack(stack);

    template.resourceCountIs('AWS::Lambda::LayerVersionPermission', 3);
    for (const principal of ['111122223333', '444455556666']) {
      template.hasResource('AWS::Lambda::LayerVersionPermission', {
        Properties: { Action: 'lambda:GetLayerVersion', Principal: principal, OrganizationId: Match.absent(), LayerVersionArn: { Ref: Match.anyValue() } },
        DeletionPolicy: 'Retain',
      });
    }
    template.hasResourceProperties('AWS::Lambda::LayerVersionPermission', { Principal: '*', OrganizationId: 'o-a1b2c3d4e5' });

    const openTemplate = Template.fromStack(open);
    openTemplate.resourceCountIs('AWS::Lambda::LayerVersionPermission', 1);
    openTemplate.hasResourceProperties('AWS::Lambda::LayerVersionPermission', { Principal: '*', OrganizationId: Match.absent() });
    openTemplate.resourceCountIs('AWS::Lambda::LayerVersion', 1);
    openTemplate.hasResourceProperties('AWS::Lambda::LayerVersion', { CompatibleArchitectures: ['arm64'] });
  });

  test('no permission unless asked; removalPolicy, layerName, license, runtimes and parameterPrefix', () => {
    const stack = newStack(app, 'Publisher', { env: ENV });
    new ShmRedirectLayerPublisher(stack, 'Shm', {
      architectures: [lambda.Architecture.X86_64],
      removalPolicy: RemovalPolicy.DESTROY,
      layerName: 'acme_shm',
      license: 'https://example.com/license',
      compatibleRuntimes: [lambda.Runtime.PYTHON_3_12],
      parameterPrefix: '/acme/layers/shm',
    });
    const template = Template.fromStack(stack);

    template.resourceCountIs('AWS::Lambda::LayerVersionPermission', 0);
    template.hasResource('AWS::Lambda::LayerVersion', {
      Properties: {
        LayerName: `acme_shm-${UNDERSCORED}-x86_64`,
        LicenseInfo: 'https://example.com/license',
        CompatibleRuntimes: ['python3.12'],
      },
      DeletionPolicy: 'Delete',
    });
    template.hasResource('AWS::SSM::Parameter', { Properties: { Name: `/acme/layers/shm/x86_64/${VERSION}` }, DeletionPolicy: 'Delete' });
    template.hasResourceProperties('AWS::SSM::Parameter', { Name: '/acme/layers/shm/x86_64/latest' });
  });

  test.each([
    [{ shareWithEveryone: true, shareWithOrganization: 'o-a1b2c3d4e5' }, /shareWithEveryone already includes/],
    [{ shareWithOrganization: 'acme' }, /"acme" is not an organization ID/],
    [{ shareWithAccounts: ['*'] }, /"\*", which is not a 12-digit account ID \(for every account use shareWithEveryone\)/],
    [{ parameterPrefix: 'no-slash' }, /prefix "no-slash" is not a parameter path/],
    [{ parameterPrefix: '/trailing/' }, /prefix "\/trailing\/" is not a parameter path/],
    [{ layerName: 'with space' }, /the layerName prefix "with space" may hold only/],
    [{ architectures: [] }, /`architectures` is empty/],
    [{ architectures: [lambda.Architecture.X86_64, lambda.Architecture.X86_64] }, /names x86_64 twice/],
  ])('bad props are refused: %j', (props, message) => {
    expect(() => new ShmRedirectLayerPublisher(newStack(app, 'Publisher'), 'Shm', props as any)).toThrow(message);
  });
});

describe('ShmRedirectLayers.fromArns', () => {
  test('each function gets the ARN of its architecture, and its metadata the library version', () => {
    const stack = newStack(app, 'Consumer');
    const x86 = pythonFunction(stack, 'X86');
    const arm = armFunction(stack, 'Arm');
    withMultiprocessingFix(stack, { layers: ShmRedirectLayers.fromArns({ x86: X86_ARN, arm64: ARM_ARN }) });

    for (const [fn, arn, architecture] of [[x86, X86_ARN, 'x86_64'], [arm, ARM_ARN, 'arm64']] as const) {
      const resource = functionResource(stack, fn);
      expect(resource.Properties.Layers).toEqual([arn]);
      expect(resource.Properties.Environment).toEqual({ Variables: { LD_PRELOAD: PRELOAD } });
      expect(resource.Metadata['cdk-lambda-multiprocessing']).toEqual({
        shmRedirect: { libraryVersion: VERSION, architecture, layer: arn },
      });
    }
    Template.fromStack(stack).resourceCountIs('AWS::Lambda::LayerVersion', 0);
  });

  test('a cross-account ARN needs no lookup, and no account or region on the stack', () => {
    const stack = newStack(app, 'Consumer');
    pythonFunction(stack, 'Fn');
    MultiprocessingFix.applyTo(stack, { layers: ShmRedirectLayers.fromArns({ x86: X86_ARN }) });
    const assembly = app.synth();

    expect(assembly.manifest.missing ?? []).toEqual([]);
    expect(Object.keys(assembly.getStackByName('Consumer').template.Parameters)).toEqual(['BootstrapVersion']);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { Layers: [X86_ARN] });
  });

  test('a function whose architecture has no layer is an error naming it; the others are fixed', () => {
    const stack = newStack(app, 'Consumer');
    const x86 = pythonFunction(stack, 'X86');
    armFunction(stack, 'Arm');
    withMultiprocessingFix(stack, { layers: ShmRedirectLayers.fromArns({ x86: X86_ARN }) });

    Annotations.fromStack(stack).hasError(
      '/Consumer/Arm',
      Match.stringLikeRegexp('Consumer/Arm is a arm64 function, but the layers given to MultiprocessingFix \\(ShmRedirectLayers.fromArns\\) have none for arm64'),
    );
    expect(functionResource(stack, x86).Properties.Layers).toEqual([X86_ARN]);
  });

  test('libraryVersion, when given, is what the metadata says; an ARN of another name says nothing of the version', () => {
    const stack = newStack(app, 'Consumer');
    const named = pythonFunction(stack, 'Named');
    const other = newStack(app, 'Other');
    const unnamed = pythonFunction(other, 'Unnamed');
    withMultiprocessingFix(stack, { layers: ShmRedirectLayers.fromArns({ x86: 'arn:aws:lambda:eu-west-1:111122223333:layer:tools:7', libraryVersion: '0.9.1' }) });
    withMultiprocessingFix(other, { layers: ShmRedirectLayers.fromArns({ x86: 'arn:aws:lambda:eu-west-1:111122223333:layer:tools:7' }) });

    expect(functionResource(stack, named).Metadata['cdk-lambda-multiprocessing'].shmRedirect.libraryVersion).toBe('0.9.1');
    expect(functionResource(other, unnamed).Metadata['cdk-lambda-multiprocessing'].shmRedirect.libraryVersion).toBe('not known at synth time');
  });

  test.each([
    [{}, /at least one architecture/],
    [{ x86: 'arn:aws:lambda:eu-west-1:111122223333:layer:shm-redirect' }, /is not a layer version ARN/],
    [{ x86: ARM_ARN }, /the x86_64 ARN .* names a layer ShmRedirectLayerPublisher published for arm64.* Give it as `arm64`/],
    [{ arm64: X86_ARN }, /the arm64 ARN .* published for x86_64.* Give it as `x86`/],
  ])('bad ARNs are refused: %j', (arns, message) => {
    expect(() => ShmRedirectLayers.fromArns(arns)).toThrow(message);
  });

  test('layers with layer or layerProps is refused', () => {
    const layers = ShmRedirectLayers.fromArns({ x86: X86_ARN });
    expect(() => new MultiprocessingFix({ layers, layerProps: {} })).toThrow(/pass only `layers`/);
    expect(() => new MultiprocessingFix({ layers, layer: new ShmRedirectLayer(newStack(app), 'L') })).toThrow(/pass only `layers`/);
  });
});

describe('ShmRedirectLayers.fromSsmParameters (deploy time)', () => {
  test('an SSM-typed template parameter per architecture, latest by default, in a stack without account or region', () => {
    const stack = newStack(app, 'Consumer');
    const x86 = pythonFunction(stack, 'X86');
    const arm = armFunction(stack, 'Arm');
    pythonFunction(stack, 'X86Too');
    withMultiprocessingFix(stack, { layers: ShmRedirectLayers.fromSsmParameters() });
    const template = Template.fromStack(stack).toJSON();

    const parameters = Object.entries(template.Parameters as Record<string, any>).filter(([id]) => id.startsWith('SsmParameterValue'));
    expect(parameters.map(([, p]) => p)).toEqual(
      expect.arrayContaining([
        { Type: 'AWS::SSM::Parameter::Value<String>', Default: `${PREFIX}/x86_64/latest` },
        { Type: 'AWS::SSM::Parameter::Value<String>', Default: `${PREFIX}/arm64/latest` },
      ]),
    );
    expect(parameters).toHaveLength(2);
    const idOf = (name: string) => parameters.find(([, p]) => p.Default === name)![0];
    expect(functionResource(stack, x86).Properties.Layers).toEqual([{ Ref: idOf(`${PREFIX}/x86_64/latest`) }]);
    expect(functionResource(stack, arm).Properties.Layers).toEqual([{ Ref: idOf(`${PREFIX}/arm64/latest`) }]);
    expect(functionResource(stack, x86).Metadata['cdk-lambda-multiprocessing'].shmRedirect).toEqual({
      libraryVersion: 'not known at synth time',
      architecture: 'x86_64',
      layer: `SSM parameter ${PREFIX}/x86_64/latest (read at deploy time)`,
    });
  });

  test('libraryVersion pins the versioned parameter; parameterPrefix follows the publisher', () => {
    const stack = newStack(app, 'Consumer');
    const fn = pythonFunction(stack, 'Fn');
    withMultiprocessingFix(stack, { layers: ShmRedirectLayers.fromSsmParameters({ parameterPrefix: '/acme/shm', libraryVersion: '0.9.1' }) });

    Template.fromStack(stack).hasParameter('*', { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/acme/shm/x86_64/0.9.1' });
    expect(functionResource(stack, fn).Metadata['cdk-lambda-multiprocessing'].shmRedirect.libraryVersion).toBe('0.9.1');
  });

  test('a bad prefix is refused when the layers are made', () => {
    expect(() => ShmRedirectLayers.fromSsmParameters({ parameterPrefix: 'acme' })).toThrow(/prefix "acme" is not a parameter path/);
  });
});

describe('ShmRedirectLayers.fromSsmLookup (synth time)', () => {
  test('the looked-up ARN is in the template; the version comes from its layer name', () => {
    // What the CDK CLI writes to cdk.context.json after the lookup.
    app = new App({ outdir, context: { [`ssm:account=${ENV.account}:parameterName=${PREFIX}/x86_64/latest:region=${ENV.region}`]: X86_ARN } });
    const stack = newStack(app, 'Consumer', { env: ENV });
    const fn = pythonFunction(stack, 'Fn');
    withMultiprocessingFix(stack, { layers: ShmRedirectLayers.fromSsmLookup() });

    const resource = functionResource(stack, fn);
    expect(resource.Properties.Layers).toEqual([X86_ARN]);
    expect(resource.Metadata['cdk-lambda-multiprocessing'].shmRedirect).toEqual({
      libraryVersion: VERSION,
      architecture: 'x86_64',
      layer: `SSM parameter ${PREFIX}/x86_64/latest (looked up at synth time)`,
    });
  });

  test('without a cached value the synth asks the CLI for the lookup, of the pinned parameter', () => {
    const stack = newStack(app, 'Consumer', { env: ENV });
    pythonFunction(stack, 'Fn');
    withMultiprocessingFix(stack, { layers: ShmRedirectLayers.fromSsmLookup({ libraryVersion: '0.9.1' }) });
    const missing = app.synth().manifest.missing ?? [];

    expect(missing.map((m) => m.props)).toEqual([expect.objectContaining({ parameterName: `${PREFIX}/x86_64/0.9.1`, region: ENV.region })]);
  });

  test('a stack without account and region is an error that points to fromSsmParameters', () => {
    const stack = newStack(app, 'Consumer');
    pythonFunction(stack, 'Fn');
    withMultiprocessingFix(stack, { layers: ShmRedirectLayers.fromSsmLookup() });
    expect(() => app.synth()).toThrow(/needs the account and region of stack Consumer.*ShmRedirectLayers.fromSsmParameters/);
  });
});

describe('ShmRedirectLayers.fromPublisher', () => {
  test('another stack reads the versioned SSM parameter at deploy time and depends on the publisher: no export, no Fn::ImportValue', () => {
    const publisherStack = newStack(app, 'Layers', { env: ENV });
    const publisher = new ShmRedirectLayerPublisher(publisherStack, 'Shm');
    const consumer = newStack(app, 'Consumer', { env: ENV });
    const x86 = pythonFunction(consumer, 'X86');
    const arm = armFunction(consumer, 'Arm');
    withMultiprocessingFix(consumer, { layers: ShmRedirectLayers.fromPublisher(publisher) });
    const assembly = app.synth();

    const template = Template.fromStack(consumer);
    template.hasParameter('*', { Type: 'AWS::SSM::Parameter::Value<String>', Default: `${PREFIX}/x86_64/${VERSION}` });
    template.hasParameter('*', { Type: 'AWS::SSM::Parameter::Value<String>', Default: `${PREFIX}/arm64/${VERSION}` });
    expect(JSON.stringify(template.toJSON())).not.toMatch(/Fn::ImportValue/);
    for (const output of Object.values(Template.fromStack(publisherStack).toJSON().Outputs as Record<string, any>)) {
      expect(output.Export).toBeUndefined();
    }
    expect(assembly.getStackByName('Consumer').dependencies.map((d) => d.id)).toContain('Layers');
    expect(functionResource(consumer, x86).Metadata['cdk-lambda-multiprocessing'].shmRedirect).toEqual({
      libraryVersion: VERSION,
      architecture: 'x86_64',
      layer: `ShmRedirectLayerPublisher Layers/Shm: SSM parameter ${PREFIX}/x86_64/${VERSION}`,
    });
    expect(functionResource(consumer, arm).Properties.Layers).toEqual([{ Ref: expect.stringMatching(/^SsmParameterValue.*arm64/) }]);
  });

  test('in the publisher\'s own stack, its layer versions themselves', () => {
    const stack = newStack(app, 'Both', { env: ENV });
    const publisher = new ShmRedirectLayerPublisher(stack, 'Shm', { architectures: [lambda.Architecture.ARM_64] });
    const arm = armFunction(stack, 'Arm');
    const x86 = pythonFunction(stack, 'X86');
    withMultiprocessingFix(stack, { layers: ShmRedirectLayers.fromPublisher(publisher) });

    const layer = publisher.layerFor(lambda.Architecture.ARM_64) as lambda.LayerVersion;
    expect(functionResource(stack, arm).Properties.Layers).toEqual([{ Ref: stack.getLogicalId(layer.node.defaultChild as lambda.CfnLayerVersion) }]);
    expect(publisher.layerFor(lambda.Architecture.X86_64)).toBeUndefined();
    Annotations.fromStack(stack).hasError('/Both/X86', Match.stringLikeRegexp('have none for x86_64'));
    expect(functionResource(stack, x86).Properties.Layers).toBeUndefined();
  });

  test('a stack of another region is an error: SSM parameters do not cross regions', () => {
    const publisher = new ShmRedirectLayerPublisher(newStack(app, 'Layers', { env: ENV }), 'Shm');
    const consumer = newStack(app, 'Consumer', { env: { ...ENV, region: 'us-east-1' } });
    pythonFunction(consumer, 'Fn');
    withMultiprocessingFix(consumer, { layers: ShmRedirectLayers.fromPublisher(publisher) });
    expect(() => app.synth()).toThrow(/Consumer\/Fn is in region us-east-1 but ShmRedirectLayerPublisher Layers\/Shm publishes in eu-west-1/);
  });
});

describe('identity and version', () => {
  test('the per-stack layer: the function\'s metadata names the library version', () => {
    const stack = newStack(app);
    const fn = pythonFunction(stack, 'Fn');
    withMultiprocessingFix(stack);

    expect(functionResource(stack, fn).Metadata['cdk-lambda-multiprocessing']).toEqual({
      shmRedirect: { libraryVersion: VERSION, architecture: 'x86_64', layer: 'ShmRedirectLayer Stack/CdkLambdaMultiprocessingShmRedirectLayer' },
    });
  });

  test('a layer of the other architecture added by hand: an acknowledgeable warning naming the function', () => {
    const stack = newStack(app);
    const layer = new ShmRedirectLayer(stack, 'Shm');
    const wrong = pythonFunction(stack, 'Wrong');
    wrong.addLayers(layer.layerFor(lambda.Architecture.ARM_64));
    const right = armFunction(stack, 'Right');
    right.addLayers(layer.layerFor(lambda.Architecture.ARM_64));

    const annotations = Annotations.fromStack(stack);
    annotations.hasWarning(
      '/Stack/Wrong',
      Match.stringLikeRegexp('Stack/Wrong is x86_64 but carries the shm_redirect layer for arm64 \\(ShmRedirectLayer Stack/Shm\\).*\\[ack: cdk-lambda-multiprocessing:layerArchitecture\\]'),
    );
    annotations.hasNoWarning('/Stack/Right', Match.anyValue());
    expect(functionResource(stack, right).Metadata['cdk-lambda-multiprocessing'].shmRedirect.architecture).toBe('arm64');
  });

  test('the warning can be acknowledged', () => {
    const stack = newStack(app);
    const layer = new ShmRedirectLayer(stack, 'Shm');
    const wrong = pythonFunction(stack, 'Wrong');
    wrong.addLayers(layer.layerFor(lambda.Architecture.ARM_64));
    CdkAnnotations.of(wrong).acknowledgeWarning('cdk-lambda-multiprocessing:layerArchitecture', 'testing');

    Annotations.fromStack(stack).hasNoWarning('/Stack/Wrong', Match.anyValue());
  });

  test('a publisher\'s or an imported layer of the other architecture, with the fix applied: warned once', () => {
    const stack = newStack(app, 'Stack', { env: ENV });
    const publisher = new ShmRedirectLayerPublisher(stack, 'Shm');
    const other = newStack(app, 'Other');
    const wrong = armFunction(stack, 'Wrong');
    wrong.addLayers(publisher.layerFor(lambda.Architecture.X86_64)!);
    const imported = ShmRedirectLayers.fromArns({ x86: X86_ARN });
    const wrongToo = armFunction(other, 'WrongToo');
    wrongToo.addLayers(imported.layerFor(wrongToo, lambda.Architecture.X86_64)!);
    withMultiprocessingFix(app, { layers: ShmRedirectLayers.fromPublisher(publisher), filter: { includes: (fn) => fn !== wrongToo } });

    const warnings = Annotations.fromStack(stack).findWarning('/Stack/Wrong', Match.stringLikeRegexp('carries the shm_redirect layer for x86_64'));
    expect(warnings).toHaveLength(1);
    Annotations.fromStack(other).hasWarning('/Other/WrongToo', Match.stringLikeRegexp(`arm64 but carries the shm_redirect layer for x86_64 \\(${X86_ARN}\\)`));
  });

  test('the same ARN in one stack is imported once', () => {
    const stack = newStack(app);
    pythonFunction(stack, 'A');
    pythonFunction(stack, 'B');
    const layers = ShmRedirectLayers.fromArns({ x86: X86_ARN });
    withMultiprocessingFix(stack, { layers });
    MultiprocessingFix.applyTo(stack, { layers: ShmRedirectLayers.fromArns({ x86: X86_ARN }) });
    app.synth();

    expect(stack.node.children.filter((c) => c.node.id.startsWith('CdkLambdaMultiprocessingLayer'))).toHaveLength(1);
  });
});
