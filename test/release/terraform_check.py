"""Checks examples/outside-cdk/terraform/main.tf as far as anything can here: no Terraform-compatible tool can
validate it, because `terraform validate` and `tofu validate` need the hashicorp/aws provider, which only
their registries serve (see docs/outside-cdk.md). Parsed with python-hcl2 (HCL2, as Terraform reads it), then:
the layer version is made from the release's zip of the function's architecture, with its hash, and the
function has that layer and LD_PRELOAD.

    python3 test/release/terraform_check.py DIR     # prints the zip file name the defaults give"""
import os
import re
import sys

import hcl2


def unquote(value):
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    if isinstance(value, list):
        return [unquote(v) for v in value]
    if isinstance(value, dict):
        return {unquote(k): unquote(v) for k, v in value.items() if k != '__is_block__'}
    return value


def blocks(document, kind):
    found = {}
    for entry in document.get(kind, []):
        for type_name, named in unquote(entry).items():
            for name, body in named.items():
                found['%s.%s' % (type_name, name)] = body
    return found


def main(directory):
    with open(os.path.join(directory, 'main.tf')) as f:
        document = hcl2.load(f)
    variables = {name: body.get('default') for entry in document['variable'] for name, body in unquote(entry).items()}
    local_values = {k: v for entry in document['locals'] for k, v in unquote(entry).items()}
    resources = blocks(document, 'resource')
    layer = resources['aws_lambda_layer_version.shm_redirect']
    function = resources['aws_lambda_function.workers']
    problems = []

    def expect(what, got, want):
        if got != want:
            problems.append('%s is %r, expected %r' % (what, got, want))

    expect('layer filename', layer['filename'], '${local.layer_zip}')
    expect('layer source_code_hash', layer['source_code_hash'], '${filebase64sha256(local.layer_zip)}')
    expect('layer compatible_architectures', layer['compatible_architectures'], ['${var.architecture}'])
    expect('function architectures', function['architectures'], ['${var.architecture}'])
    expect('function layers', function['layers'], ['${aws_lambda_layer_version.shm_redirect.arn}'])
    [environment] = function['environment']
    expect('function LD_PRELOAD', environment['variables']['LD_PRELOAD'], '/opt/lib/shm_redirect.so')
    zip_path = re.sub(r'\$\{var\.(\w+)\}', lambda m: variables[m.group(1)], local_values['layer_zip'])
    zip_name = zip_path.replace('${path.module}/', '')
    if not re.fullmatch(r'shm-redirect-\d+\.\d+\.\d+-%s\.zip' % re.escape(variables['architecture']), zip_name):
        problems.append('the layer zip %s is not named as the release names it' % zip_name)
    for problem in problems:
        print('terraform: ' + problem, file=sys.stderr)
    if problems:
        return 1
    print('terraform: %d resources; layer from %s (%s), function with its ARN and LD_PRELOAD' % (
        len(resources), zip_name, variables['architecture']), file=sys.stderr)
    print(zip_name)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
