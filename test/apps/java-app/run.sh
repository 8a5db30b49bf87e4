#!/usr/bin/env bash
# The Java CDK app (WorkersApp.java) against the jar jsii-pacmak generates: packages it into dist/java
# (`npx projen package:java`), installs it into the local Maven repository, compiles the app with Maven
# (aws-cdk-lib and constructs from Maven Central), synthesizes it and checks its templates, then checks
# the README's Java snippet. The local Maven repository, which jsii-pacmak's own Maven build uses too,
# is cached under $CLM_CACHE_DIR, keyed by pom.xml and the Maven, Java and jsii-pacmak versions.
# Needs `npx projen compile` first.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
app=java-app
source "$here/../steps.sh"
require_compiled

pacmak=$(node -p 'require("jsii-pacmak/package.json").version')
maven=$(mvn -B -v | sed -n '1s/\x1b\[[0-9;]*m//gp') java=$(java -version 2>&1 | sed -n 1p)
key=$( { cat "$here/pom.xml"; echo "$maven $java $pacmak"; } | cache_key)
repo="$cache/maven-$key"
mkdir -p "$repo"
# Maven's local repository is not safe for two builds at once.
exec 9>"$repo.lock"
flock 9
echo "$app: $java, $maven, jsii-pacmak $pacmak, Maven repository $repo"
# Quiet, no colours in CI logs; a JVM that compiles less pays off for Maven's short runs (as jsii-pacmak does).
mvn() { command mvn -B -ntp -q -Dstyle.color=never -Dmaven.repo.local="$repo" "$@"; }
export MAVEN_OPTS="${MAVEN_OPTS:-} -XX:+TieredCompilation -XX:TieredStopAtLevel=1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step "package:java (jsii-pacmak: the jar into dist/java)" \
  env JSII_PACMAK_MAVEN_LOCAL_REPOSITORY="$repo" npx projen package:java
version=$(node -p "require('$root/package.json').version")
dist="$root/dist/java/io/github/cdk-lambda-multiprocessing/cdk-lambda-multiprocessing/$version"
cd "$here"
# One Maven run: the install goal runs before the compile resolves the app's dependencies.
step "install cdk-lambda-multiprocessing $version into the Maven repository, compile the app" \
  mvn install:install-file -Dfile="$dist/cdk-lambda-multiprocessing-$version.jar" \
  -DpomFile="$dist/cdk-lambda-multiprocessing-$version.pom" \
  compile dependency:build-classpath -Dclm.version="$version" -Dmdep.outputFile="$work/classpath"
step "synth (CDK_OUTDIR=$work/cdk.out)" env CDK_OUTDIR="$work/cdk.out" \
  java -cp "$here/target/classes:$(cat "$work/classpath")" com.myorg.WorkersApp
step "check the templates" check_templates "$work/cdk.out"
step "README Java snippet" readme_snippet java "$here/src/main/java/com/myorg/WorkersApp.java"
finish
