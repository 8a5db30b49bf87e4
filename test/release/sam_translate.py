"""SAM's own translator (aws-sam-translator, the library `sam deploy` and CloudFormation's transform run) on
examples/outside-cdk/sam/template.yaml, then checks of what it gives: a Lambda layer version from the zip, and a
function with that layer and LD_PRELOAD. Local paths are replaced by S3 locations first, as `sam package` does
once it has uploaded them.

    python3 test/release/sam_translate.py TEMPLATE"""
import os
import sys

import yaml
from samtranslator.parser.parser import Parser
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """The translator asks IAM for managed policy ARNs only for policies named in a function; this one names none."""

    def load(self):
        return {}


def main(path):
    # The region the pseudo-parameters (AWS::Region, ARNs' partition) are resolved for; nothing is called.
    os.environ.setdefault('AWS_DEFAULT_REGION', 'us-east-1')
    template = yaml_parse(open(path).read())
    resources = template['Resources']
    layer_zip = resources['ShmRedirectLayer']['Properties']['ContentUri']
    resources['ShmRedirectLayer']['Properties']['ContentUri'] = 's3://example-bucket/' + layer_zip
    resources['Workers']['Properties']['CodeUri'] = 's3://example-bucket/function.zip'
    out = transform(template, {}, NoManagedPolicies(), Parser())['Resources']
    layers = {k: v for k, v in out.items() if v['Type'] == 'AWS::Lambda::LayerVersion'}
    [(layer_id, layer)] = layers.items()
    function = out['Workers']
    problems = []
    if layer['Properties']['Content'] != {'S3Bucket': 'example-bucket', 'S3Key': layer_zip}:
        problems.append('layer content %s' % layer['Properties']['Content'])
    if function['Properties'].get('Layers') != [{'Ref': layer_id}]:
        problems.append('function layers %s' % function['Properties'].get('Layers'))
    variables = function['Properties'].get('Environment', {}).get('Variables', {})
    if variables.get('LD_PRELOAD') != '/opt/lib/shm_redirect.so':
        problems.append('LD_PRELOAD %s' % variables.get('LD_PRELOAD'))
    if layer['Properties']['CompatibleArchitectures'] != function['Properties']['Architectures']:
        problems.append('architectures differ')
    print(yaml.safe_dump({'layer ' + layer_id: layer['Properties'], 'function Workers': {
        k: function['Properties'][k] for k in ('Architectures', 'Layers', 'Environment', 'Runtime')}}, sort_keys=True))
    for problem in problems:
        print('sam-translator: ' + problem)
    print('sam-translator: %d resources, %s' % (len(out), 'layer and function as expected' if not problems else 'FAILED'))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
