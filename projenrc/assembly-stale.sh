#!/bin/sh
# Exit 0 (compile needed) when the .jsii assembly is missing or older than what goes into it: the sources,
# package.json, and the README, which the assembly embeds. The condition of the packaging tasks' compile step.
[ ! -f .jsii ] || [ -n "$(find src package.json README.md -newer .jsii -print | head -n 1)" ]
