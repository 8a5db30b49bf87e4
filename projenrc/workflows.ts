// The public repository's GitHub workflows (docs/releasing.md): ci runs the README's test command, release
// builds and publishes a tag. Both are generated from here; stage workflows lints them offline (actionlint,
// zizmor). Every action is pinned by commit (the tag it was cut from in the comment), every job gets only the
// permissions it uses, and no checkout keeps its credentials.
import { github, javascript } from 'projen';

const { JobPermission } = github.workflows;

// Commits of the actions' release tags (read from the actions' repositories).
const ACTIONS = {
  checkout: 'actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1', // v7.0.1
  setupNode: 'actions/setup-node@820762786026740c76f36085b0efc47a31fe5020', // v7.0.0
  setupPython: 'actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97', // v7.0.0
  setupJava: 'actions/setup-java@b6effb05e454b25005698d916606bdc6ffcbf961', // v5.7.0
  setupGo: 'actions/setup-go@b7ad1dad31e06c5925ef5d2fc7ad053ef454303e', // v7.0.0
  uploadArtifact: 'actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f', // v7.0.0
  downloadArtifact: 'actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c', // v8.0.1
  pypiPublish: 'pypa/gh-action-pypi-publish@81e9d935c883d0b210363ab89cf05f3894778450', // v1.8.14
  awsCredentials: 'aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c', // v6.2.3
};
// publib publishes to Maven Central and the Go repository as projen's own release workflow does.
const PUBLIB = 'publib@0.2.1061';
const RUNNER = ['ubuntu-24.04'];
// No caches: a cache written by one workflow run could poison a release's build (zizmor: cache-poisoning).
const NODE = { uses: ACTIONS.setupNode, with: { 'node-version': '22', 'package-manager-cache': false } };
const CHECKOUT = { uses: ACTIONS.checkout, with: { 'persist-credentials': false } };
const DOWNLOAD_DIST = { uses: ACTIONS.downloadArtifact, with: { name: 'dist', path: 'dist' } };

/** Steps that give a hosted runner what the README's test command asks to be installed first. */
function testPrerequisites(): github.workflows.JobStep[] {
  const pythons = ['3.12', '3.13'].map((version) => ({
    id: `py${version.replace('.', '')}`,
    uses: ACTIONS.setupPython,
    // Only installed: the stages' python3 stays the runner's own.
    with: { 'python-version': version, 'update-environment': false },
  }));
  return [
    CHECKOUT,
    NODE,
    ...pythons,
    {
      name: 'The Pythons where the integration stages look for pyenv\'s ($PYENV_ROOT/versions/X.Y.Z)',
      env: { PY312: '${{ steps.py312.outputs.python-path }}', PY313: '${{ steps.py313.outputs.python-path }}' },
      run: [
        'mkdir -p "$RUNNER_TEMP/pyenv/versions"',
        'for python in "$PY312" "$PY313"; do',
        '  version=$("$python" -c "import platform; print(platform.python_version())")',
        '  ln -s "$(dirname "$(dirname "$python")")" "$RUNNER_TEMP/pyenv/versions/$version"',
        'done',
      ].join('\n'),
    },
  ];
}

// The README's test command as root (mount namespaces, chroot, podman); Debian's suites for debootstrap come
// from Debian's mirror, not the runner's Ubuntu one.
const RUN_TESTS = {
  name: 'bash .ci/run (the README\'s test command)',
  run: 'sudo env "PATH=$PATH" "PYENV_ROOT=$RUNNER_TEMP/pyenv" CI=true CLM_DEBIAN_MIRROR=http://deb.debian.org/debian bash .ci/run',
};

export function addWorkflows(project: javascript.NodeProject): void {
  const gh = project.github!;

  const ci = gh.addWorkflow('ci');
  ci.on({ push: { branches: ['main'] }, pullRequest: {}, workflowDispatch: {}, workflowCall: {} });
  ci.file!.addOverride('permissions', { contents: 'none' });
  ci.addJobs({
    test: {
      name: 'bash .ci/run',
      runsOn: RUNNER,
      timeoutMinutes: 90,
      permissions: { contents: JobPermission.READ },
      steps: [
        ...testPrerequisites(),
        { name: 'Debian\'s archive keys (debootstrap of the root filesystems)', run: 'sudo apt-get update -qq && sudo apt-get install -y -qq debian-archive-keyring' },
        RUN_TESTS,
      ],
    },
  });

  const release = gh.addWorkflow('release');
  release.on({ push: { tags: ['v[0-9]+.[0-9]+.[0-9]+*'] } });
  release.file!.addOverride('permissions', { contents: 'none' });
  release.file!.addOverride('concurrency', { 'group': 'release', 'cancel-in-progress': false });
  const env = { VERSION: '${{ github.ref_name }}' };
  release.addJobs({
    test: { uses: './.github/workflows/ci.yml', permissions: { contents: JobPermission.READ } },
    build: {
      name: 'dist/ of the tag (npx projen release:build)',
      needs: ['test'],
      runsOn: RUNNER,
      timeoutMinutes: 45,
      permissions: { contents: JobPermission.READ },
      steps: [
        { ...CHECKOUT, with: { ...CHECKOUT.with, 'fetch-depth': 0 } },
        NODE,
        { uses: ACTIONS.setupJava, with: { 'distribution': 'temurin', 'java-version': '17' } },
        { uses: ACTIONS.setupGo, with: { 'go-version': '1.26', 'cache': false } },
        { name: 'The tag is VERSION', env, run: 'test "$VERSION" = "v$(cat VERSION)"' },
        {
          name: 'Compilers and podman',
          run: 'sudo apt-get update -qq && sudo apt-get install -y -qq gcc gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils podman',
        },
        { run: 'npm ci --no-audit --no-fund' },
        {
          name: 'Build and check every artefact (release/build.sh; COPY --from on AWS\'s own base image)',
          run: 'sudo env "PATH=$PATH" CLM_RELEASE_BASE_IMAGE=public.ecr.aws/lambda/python:3.12 npx projen release:build',
        },
        { uses: ACTIONS.uploadArtifact, with: { 'name': 'dist', 'path': 'dist', 'if-no-files-found': 'error' } },
      ],
    },
    github: {
      name: 'GitHub release with dist/',
      needs: ['build'],
      runsOn: RUNNER,
      environment: 'release',
      permissions: { contents: JobPermission.WRITE },
      steps: [
        DOWNLOAD_DIST,
        {
          env: { ...env, GH_TOKEN: '${{ github.token }}', GH_REPO: '${{ github.repository }}' },
          run: [
            'cd dist',
            'gh release create "$VERSION" --verify-tag --title "$VERSION" --notes-file RELEASE_NOTES.md \\',
            '  SHA256SUMS provenance.intoto.json layer/*.zip image/*.oci.tar js/*.tgz python/* \\',
            '  java/io/github/cdk-lambda-multiprocessing/cdk-lambda-multiprocessing/*/*.{jar,pom}',
          ].join('\n'),
        },
      ],
    },
    npm: {
      name: 'npm (trusted publishing, with provenance)',
      needs: ['build'],
      runsOn: RUNNER,
      environment: 'release',
      permissions: { idToken: JobPermission.WRITE },
      steps: [
        DOWNLOAD_DIST,
        { uses: ACTIONS.setupNode, with: { 'node-version': '24', 'registry-url': 'https://registry.npmjs.org', 'package-manager-cache': false } },
        { run: 'npm publish --provenance --access public dist/js/*.tgz' },
      ],
    },
    pypi: {
      name: 'PyPI (trusted publishing)',
      needs: ['build'],
      runsOn: RUNNER,
      environment: 'release',
      permissions: { idToken: JobPermission.WRITE },
      steps: [DOWNLOAD_DIST, { uses: ACTIONS.pypiPublish, with: { 'packages-dir': 'dist/python' } }],
    },
    maven: {
      name: 'Maven Central',
      needs: ['build'],
      runsOn: RUNNER,
      environment: 'release',
      permissions: {},
      steps: [
        DOWNLOAD_DIST,
        NODE,
        { uses: ACTIONS.setupJava, with: { 'distribution': 'temurin', 'java-version': '17' } },
        {
          env: {
            MAVEN_USERNAME: '${{ secrets.MAVEN_USERNAME }}',
            MAVEN_PASSWORD: '${{ secrets.MAVEN_PASSWORD }}',
            MAVEN_GPG_PRIVATE_KEY: '${{ secrets.MAVEN_GPG_PRIVATE_KEY }}',
            MAVEN_GPG_PRIVATE_KEY_PASSPHRASE: '${{ secrets.MAVEN_GPG_PRIVATE_KEY_PASSPHRASE }}',
            MAVEN_SERVER_ID: 'central-ossrh',
          },
          run: `npx -p ${PUBLIB} publib-maven dist/java`,
        },
      ],
    },
    go: {
      name: 'Go module (commits the bindings to the -go repository)',
      needs: ['build'],
      runsOn: RUNNER,
      environment: 'release',
      permissions: {},
      steps: [
        DOWNLOAD_DIST,
        NODE,
        { uses: ACTIONS.setupGo, with: { 'go-version': '1.26', 'cache': false } },
        {
          env: {
            GITHUB_TOKEN: '${{ secrets.GO_GITHUB_TOKEN }}',
            GIT_USER_NAME: 'cdk-lambda-multiprocessing release',
            GIT_USER_EMAIL: 'cdk-lambda-multiprocessing@users.noreply.github.com',
          },
          run: `npx -p ${PUBLIB} publib-golang dist/go`,
        },
      ],
    },
    image: {
      name: 'The FROM-scratch image to public ECR',
      needs: ['build'],
      runsOn: RUNNER,
      environment: 'release',
      permissions: { idToken: JobPermission.WRITE },
      steps: [
        DOWNLOAD_DIST,
        {
          uses: ACTIONS.awsCredentials,
          with: { 'role-to-assume': '${{ vars.ECR_PUBLIC_ROLE_ARN }}', 'aws-region': 'us-east-1' },
        },
        {
          env: { REPOSITORY: '${{ vars.ECR_PUBLIC_REPOSITORY }}' },
          run: [
            'aws ecr-public get-login-password --region us-east-1 | skopeo login --username AWS --password-stdin public.ecr.aws',
            'library=$(basename dist/image/shm-redirect-*.oci.tar .oci.tar); library=${library#shm-redirect-}',
            '# The library version is immutable; its major tag moves with each release of that major.',
            'for tag in "$library" "${library%%.*}"; do',
            '  skopeo copy --all "oci-archive:dist/image/shm-redirect-$library.oci.tar:$library" "docker://$REPOSITORY:$tag"',
            'done',
          ].join('\n'),
        },
      ],
    },
  });
}
