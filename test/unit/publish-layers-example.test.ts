import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PRELOAD, sharedOutdir } from './util';
import { publishLayersApp } from '../../examples/publish-layers';

// The platform team's example (examples/publish-layers.ts), synthesized; test/integration/deploy-local deploys it.
test('the publish-layers example: a publisher stack per region, and a workload importing the first by SSM parameter', () => {
  const app = new App({ outdir: sharedOutdir() });
  const { publishers, workload } = publishLayersApp(app, {
    account: '123456789012',
    regions: ['eu-west-1', 'us-east-1'],
    publisher: { shareWithOrganization: 'o-a1b2c3d4e5' },
  });
  const assembly = app.synth();

  expect(publishers.map((p) => [p.stackName, p.region])).toEqual([['ShmRedirectLayers-eu-west-1', 'eu-west-1'], ['ShmRedirectLayers-us-east-1', 'us-east-1']]);
  for (const stack of publishers) {
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::LayerVersion', 2);
    template.resourceCountIs('AWS::Lambda::LayerVersionPermission', 2);
    template.resourceCountIs('AWS::SSM::Parameter', 4);
    expect(Object.keys(template.toJSON().Outputs)).toHaveLength(2);
  }
  const template = Template.fromStack(workload);
  template.resourceCountIs('AWS::Lambda::LayerVersion', 0);
  template.allResourcesProperties('AWS::Lambda::Function', { Environment: { Variables: { LD_PRELOAD: PRELOAD } } });
  expect(assembly.getStackByName('Workload').dependencies.map((d) => d.id)).toContain('ShmRedirectLayers-eu-west-1');
  expect(JSON.stringify(template.toJSON())).not.toMatch(/Fn::ImportValue/);
});
