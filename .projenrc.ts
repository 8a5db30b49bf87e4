import * as fs from 'fs';
import { awscdk, DependencyType, javascript } from 'projen';
import { addWorkflows } from './projenrc/workflows';

// The floor: Runtime.PROVIDED_AL2023 (the Docker fallback's build image)
// arrived in 2.105.0 and Runtime.PYTHON_3_12 (used by the documented and
// tested Python app) in 2.110.0. test/apps/python-app runs against exactly this
// release with CLM_PYTHON_APP_REQUIREMENTS=requirements-floor.txt.
const CDK_FLOOR = '2.110.0';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-lambda-multiprocessing',
  // Construct Hub shows the description under the name and searches the keywords (`awscdk` and `cdk` are
  // added by projen, and `cdk-construct` makes it a construct library there).
  description:
    'Python multiprocessing on AWS Lambda: Pool, Lock, Queue, ProcessPoolExecutor and shared_memory work with one line of CDK (a layer, or one Dockerfile line for image functions).',
  keywords: [
    'aws-cdk', 'cdk-construct', 'lambda', 'aws-lambda', 'python', 'multiprocessing', 'shared-memory', 'dev-shm',
    'semaphore', 'pool', 'process-pool', 'pytorch', 'dataloader', 'joblib', 'layer', 'ld-preload', 'container-image',
  ],
  author: 'cdk-lambda-multiprocessing contributors',
  authorAddress: 'cdk-lambda-multiprocessing@users.noreply.github.com',
  repositoryUrl: 'https://github.com/cdk-lambda-multiprocessing/cdk-lambda-multiprocessing.git',
  license: 'Apache-2.0',
  copyrightOwner: 'cdk-lambda-multiprocessing contributors',
  defaultReleaseBranch: 'main',
  projenrcTs: true,
  packageManager: javascript.NodePackageManager.NPM,
  // engines: what works and is tested. CI runs the unit tests and the README's TypeScript quick start on Node
  // 20 (the machine's), 22 and 24 (test/apps/node-lines). 20 stays the floor because aws-cdk-lib, our peer, still
  // declares >= 20 (a stricter floor would only add npm warnings) and it passes every test; but it is
  // end-of-life (jsii stopped supporting it on 2026-10-30), so the README names 22 and 24 as the supported
  // lines. Node 18 never worked with today's aws-cdk-lib.
  minNodeVersion: '20.0.0',

  cdkVersion: CDK_FLOOR,
  cdkVersionPinning: false,
  constructsVersion: '10.0.5',
  // The peers are not pinned to the floor for development: the tests run
  // against the newest 2.x (see the devDependencies below).
  peerDependencyOptions: { pinnedDevDependency: false },

  publishToPypi: {
    distName: 'cdk-lambda-multiprocessing',
    module: 'cdk_lambda_multiprocessing',
  },
  publishToMaven: {
    javaPackage: 'io.github.cdklambdamultiprocessing',
    mavenGroupId: 'io.github.cdk-lambda-multiprocessing',
    mavenArtifactId: 'cdk-lambda-multiprocessing',
  },
  // Go modules live where their code is hosted: jsii-pacmak writes the bindings to
  // <moduleName>/cdklambdamultiprocessing, which a release commits to this sibling repository.
  publishToGo: {
    moduleName: 'github.com/cdk-lambda-multiprocessing/cdk-lambda-multiprocessing-go',
  },

  // GitHub: only the two workflows of projenrc/workflows.ts (CI runs .ci/run; a tag is built by
  // release/build.sh and published). projen's own release (version bumps from commit messages) stays off: the
  // version is VERSION, set by release/cut.sh.
  github: true,
  githubOptions: { mergify: false, pullRequestLint: false },
  stale: false,
  autoMerge: false,
  release: false,
  buildWorkflow: false,
  depsUpgrade: false,
  pullRequestTemplate: false,
  sampleCode: false,

  eslintOptions: {
    dirs: ['src'],
    // test/integration belongs to the integration tests, which lint themselves;
    // `eslint --fix` must not rewrite them under their owner.
    ignorePatterns: ['*.js', '*.d.ts', 'node_modules/', '*.generated.ts', 'coverage', 'test/integration/**'],
  },
  jestOptions: {
    // jest 30 and eslint-import-resolver-typescript 4 resolve through unrs-resolver, whose per-platform
    // optional binaries the package registry here does not all serve: the lock file then misses them and
    // `npm ci` refuses it. The previous majors resolve in plain JavaScript.
    jestVersion: '^29',
    jestConfig: {
      // Bundling tests compile real libraries; CI machines are small.
      testTimeout: 120_000,
      // The unit tests are test/unit's; the rest of test/ has stages of its own (test/stages.mk).
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      // Library builds go to a cache of the tests' own (test/unit/setup-cache.ts).
      setupFiles: ['<rootDir>/test/unit/setup-cache.ts'],
    },
  },

  gitignore: ['layer/build/', 'layer/prebuilt/', 'cdk.out', '.cache/', 'bench/results/', '*.so', 'test/integration/.work/', '__pycache__/'],
});

// Development runs against the newest 2.x so the tests see today's CDK.
project.deps.addDependency('aws-cdk-lib@^2.276.0', DependencyType.BUILD);
project.deps.addDependency('constructs@^10.4.0', DependencyType.BUILD);
project.addDevDeps('eslint-import-resolver-typescript@^3.6.3 <3.8', 'jest-util@^29');

// The construct compiles the C library at synth time, so the npm package (and
// the jsii tarball inside the Python wheel) must carry its sources. Only what
// build.sh and audit.sh need, never build outputs or the C tests
// (test/unit/package.test.ts builds and audits from the packed files).
project.addPackageIgnore('/layer/*');
for (const keep of ['src/', 'build.sh', 'audit.sh', 'exports.txt', 'VERSION', 'Makefile', 'prebuilt/']) {
  project.addPackageIgnore(`!/layer/${keep}`);
}

// The prebuilt x86_64 and arm64 libraries the package ships (LibraryBuild.PREBUILT, and AUTO's fallback),
// built before every compile so the tests and the package always hold those of the current sources. Needs gcc
// and gcc-aarch64-linux-gnu (or x86-64 on an arm64 host); never committed.
const buildPrebuilt = project.addTask('build:prebuilt', {
  description: 'Build and audit the prebuilt libraries the package ships (layer/prebuilt/)',
  exec: 'ts-node --project projenrc/tsconfig.json projenrc/build-prebuilt.ts',
});
project.preCompileTask.spawn(buildPrebuilt);
// The FROM-scratch image for Dockerfiles outside CDK (issue 19): /opt/lib/shm_redirect.so for x86_64 and arm64
// under one manifest list, built from layer/src as the prebuilt libraries are, saved as an OCI archive in
// dist/image (podman; docs/images.md says how a release publishes it).
project.addTask('package:image', {
  description: 'Build the FROM-scratch image holding shm_redirect.so for both architectures (podman; dist/image)',
  exec: 'bash projenrc/package-image.sh',
});
for (const dir of ['/bench/', '/docs/', '/examples/', '/.ci/', '/cdk.out/', '/.cache/']) {
  project.addPackageIgnore(dir);
}

// jsii-pacmak and jsii-docgen read the .jsii assembly that `compile` writes; on a fresh clone there is none
// ("Expected to find .jsii file"). Each of these tasks compiles first when the assembly is missing or older
// than what goes into it (the sources, package.json, and the README, which the assembly embeds), so it works
// first time and never packs stale code (projenrc/assembly-stale.sh); after `compile`, as in `build`, it
// compiles nothing more.
const assemblyStale = 'sh projenrc/assembly-stale.sh';
for (const name of ['package:js', 'package:python', 'package:java', 'docgen']) {
  project.tasks.tryFind(name)!.prependSpawn(project.compileTask, { condition: assemblyStale });
}
// compile alone does not run pre-compile, so a package made from a fresh clone carried no prebuilt libraries
// (release/check.sh compares the npm package's with the layer zips): each package task builds them first when
// they are missing or older than their sources (projenrc/prebuilt-stale.sh).
for (const name of ['package:js', 'package:python', 'package:java', 'package:go']) {
  project.tasks.tryFind(name)!.prependSpawn(buildPrebuilt, { condition: 'sh projenrc/prebuilt-stale.sh' });
}

// --- Integration tests and the demo (owner: integ; docs/integration.md) ---
// integ-tests-alpha is pinned: its alpha versions only match exactly.
project.addDevDeps('@aws-cdk/integ-tests-alpha@2.245.0-alpha.0', '@aws-cdk/integ-runner@^2.197.10');
project.addTask('demo', {
  description: 'One Python function with and without the fix, synthesized and invoked in a Lambda-like sandbox (root, ~1 min)',
  exec: 'python3 test/integration/demo.py',
});
project.addTask('demo:full', {
  description: 'Every example function: arm64 under qemu, glibc 2.31, each Python runtime (root; builds root filesystems once)',
  exec: 'bash test/integration/demo-full.sh',
  receiveArgs: true,
});
project.addTask('integ:local', {
  description: 'Invoker unit tests and every example function run locally, checked (root)',
  exec: 'bash test/integration/run.sh',
});
project.addTask('integ:snapshot', {
  description: 'Compare the integ-runner snapshots with a fresh synth (no AWS account needed)',
  exec: 'bash test/integration/snapshot.sh',
});

// Benchmarks against native Linux (docs/benchmarks.md); `-- --smoke` for the quick check CI runs.
project.addTask('bench', {
  description: 'Benchmark the fix against native /dev/shm and lambda-multiprocessing (root; writes docs/benchmarks.md)',
  exec: 'bash bench/run.sh',
  receiveArgs: true,
});

// The Python CDK app test (issue 4): builds the wheel, installs it into a venv
// with aws-cdk-lib from PyPI, synthesizes test/apps/python-app/app.py and checks the
// templates; then checks that the README's Python snippet is app.py's.
const pythonApp = project.addTask('test:python-app', {
  description: 'Build the Python wheel and test it from a Python CDK app',
});
pythonApp.spawn(project.compileTask);
pythonApp.spawn(project.tasks.tryFind('package:python')!);
pythonApp.exec('bash test/apps/python-app/run.sh');
pythonApp.exec('sh test/apps/readme-snippet.sh python test/apps/python-app/app.py');

// The Java and Go CDK app tests (issue 12): each packages its binding (package:java, package:go), builds
// the app in test/apps/java-app or test/apps/go-app against it, synthesizes it and checks its templates with
// test/apps/python-app's checks, then its README snippet. `bash test/apps/run-java-go.sh` runs both at once.
for (const [dir, what] of [['java-app', 'the Java jar from a Java'], ['go-app', 'the Go bindings from a Go']]) {
  const task = project.addTask(`test:${dir}`, { description: `Test ${what} CDK app (test/apps/${dir})` });
  task.spawn(project.compileTask);
  task.exec(`bash test/apps/${dir}/run.sh`);
}
project.gitignore.exclude('test/apps/java-app/target/');

// --- Releases (docs/releasing.md) ---
// One version for the npm, PyPI, Maven and Go packages: VERSION, which release/cut.sh sets (the library inside
// has its own, layer/VERSION). It is committed, not derived from tags, so that a build of any commit knows it.
project.package.addVersion(fs.readFileSync('VERSION', 'utf8').trim());
project.addTask('release:local', {
  description: 'Cut a release: bump VERSION (--library for layer/VERSION), date the changelog, commit, tag, build and check dist/',
  exec: 'bash release/cut.sh',
  receiveArgs: true,
});
project.addTask('release:build', {
  description: 'Build and check every artefact of the checked-out commit into dist/ (what the release workflow runs at a tag)',
  exec: 'bash release/build.sh',
});
project.addTask('release:verify', {
  description: 'Rebuild the library from the checked-out tag and compare it with a release\'s notes (RELEASE_NOTES.md)',
  exec: 'bash release/verify.sh',
  receiveArgs: true,
});
project.addPackageIgnore('/release/');
addWorkflows(project);

project.synth();
