"""Checks the quick start's synthesized stack: one arm64 shm_redirect layer; the zip function with that layer and
LD_PRELOAD=/opt/lib/shm_redirect.so; for the TypeScript one (--image), the image function with LD_PRELOAD and
its image asset with the shm-redirect build context. usage: check_template.py TEMPLATE_JSON [--image]"""
import json
import os
import sys

template_file = sys.argv[1]
with_image = "--image" in sys.argv[2:]
with open(template_file, encoding="utf-8") as f:
    resources = json.load(f)["Resources"]
layers = [k for k, r in resources.items() if r["Type"] == "AWS::Lambda::LayerVersion"]
functions = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::Function"]
zips = [fn for fn in functions if fn.get("PackageType") != "Image"]
images = [fn for fn in functions if fn.get("PackageType") == "Image"]
preload = "/opt/lib/shm_redirect.so"
problems = []
if len(layers) != 1 or resources[layers[0]]["Properties"].get("CompatibleArchitectures") != ["arm64"]:
    problems.append(f"expected one arm64 layer, found {layers}")
if len(zips) != 1:
    problems.append(f"expected one zip function, found {len(zips)}")
else:
    fn = zips[0]
    if fn.get("Layers") != [{"Ref": layers[0] if layers else None}]:
        problems.append(f"the zip function's layers are {fn.get('Layers')}")
    if fn.get("Environment", {}).get("Variables", {}).get("LD_PRELOAD") != preload:
        problems.append(f"the zip function's environment is {fn.get('Environment')}")
if with_image:
    if len(images) != 1:
        problems.append(f"expected one image function, found {len(images)}")
    else:
        fn = images[0]
        if fn.get("Architectures") != ["arm64"] or fn.get("Environment", {}).get("Variables", {}).get("LD_PRELOAD") != preload:
            problems.append(f"the image function is {fn}")
    manifest = template_file.replace(".template.json", ".assets.json")
    with open(manifest, encoding="utf-8") as f:
        sources = [image["source"] for image in json.load(f).get("dockerImages", {}).values()]
    contexts = [s.get("dockerBuildContexts", {}).get("shm-redirect") for s in sources]
    library = [os.path.join(os.path.dirname(manifest), s["directory"], c, "opt/lib/shm_redirect.so") for s, c in zip(sources, contexts) if c]
    if len(library) != 1 or not os.path.isfile(library[0]):
        problems.append(f"expected one image asset whose shm-redirect context holds the library, found {sources}")
elif images:
    problems.append(f"expected no image function, found {len(images)}")
if problems:
    sys.exit(f"check_template: {template_file}: " + "; ".join(problems))
print(f"check_template: the zip function has the arm64 layer {layers[0]} and LD_PRELOAD={preload}"
      + ("; the image function has LD_PRELOAD and its image the library in its shm-redirect context" if with_image else ""))
