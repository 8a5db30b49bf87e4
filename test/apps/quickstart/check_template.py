"""Checks the quick start's synthesized stack: one arm64 shm_redirect layer, and the function with that layer
and LD_PRELOAD=/opt/lib/shm_redirect.so. usage: check_template.py TEMPLATE_JSON"""
import json
import sys

with open(sys.argv[1], encoding="utf-8") as f:
    resources = json.load(f)["Resources"]
layers = [k for k, r in resources.items() if r["Type"] == "AWS::Lambda::LayerVersion"]
functions = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::Function"]
problems = []
if len(layers) != 1 or resources[layers[0]]["Properties"].get("CompatibleArchitectures") != ["arm64"]:
    problems.append(f"expected one arm64 layer, found {layers}")
if len(functions) != 1:
    problems.append(f"expected one function, found {len(functions)}")
else:
    fn = functions[0]
    if fn.get("Layers") != [{"Ref": layers[0] if layers else None}]:
        problems.append(f"the function's layers are {fn.get('Layers')}")
    if fn.get("Environment", {}).get("Variables", {}).get("LD_PRELOAD") != "/opt/lib/shm_redirect.so":
        problems.append(f"the function's environment is {fn.get('Environment')}")
if problems:
    sys.exit(f"check_template: {sys.argv[1]}: " + "; ".join(problems))
print(f"check_template: the function has the arm64 layer {layers[0]} and LD_PRELOAD=/opt/lib/shm_redirect.so")
