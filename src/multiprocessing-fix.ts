import { Annotations, Aspects, IAspect, Stack, Token } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';
import { LibraryBuild } from './library-build';
import { hintEphemeralStorage } from './private/ephemeral-storage-hint';
import { DOCKERFILE_LINE } from './private/image-dockerfile-check';
import { imageLibraryOf } from './private/image-library';
import { asFixVisit, checkFunctionLayers } from './private/layer-identity';
import { buildImageOf, libraryBuildOf, sameLayerBuild } from './private/layer-props';
import { FunctionFilter, IFunctionFilter } from './runtime-filter';
import { ShmRedirectLayer, ShmRedirectLayerProps } from './shm-redirect-layer';
import { ShmRedirectLayers } from './shm-redirect-layers';

/** Lambda's limit on layers per function. */
const MAX_LAYERS = 5;

const PRELOAD_VARIABLE = 'LD_PRELOAD';

/**
 * Options of {@link MultiprocessingFix}.
 */
export interface MultiprocessingFixOptions {
  /**
   * The layer to use. A `ShmRedirectLayer` creates its layer versions in its
   * own stack, so it serves the functions of that stack only: a function of
   * another stack gets an error annotation. To use one layer in many stacks,
   * publish it with `ShmRedirectLayerPublisher` and pass `layers`.
   *
   * @default - one `ShmRedirectLayer` per stack (`ShmRedirectLayer.of`), shared by its functions
   */
  readonly layer?: ShmRedirectLayer;

  /**
   * Props of the per-stack layer (how it gets its library). Not allowed with `layer`.
   *
   * @default - `LibraryBuild.AUTO`: a local build when a compiler is there, Docker otherwise, else the prebuilt library
   */
  readonly layerProps?: ShmRedirectLayerProps;

  /**
   * Layers published elsewhere, one per architecture: `ShmRedirectLayers.fromArns`,
   * `fromSsmParameters`, `fromSsmLookup` or `fromPublisher`. Each function gets
   * the layer of its architecture; a function whose architecture has none gets
   * an error annotation. Not allowed with `layer` or `layerProps`.
   *
   * @default - a `ShmRedirectLayer` in each stack (see `layer`)
   */
  readonly layers?: ShmRedirectLayers;

  /**
   * Which functions get the fix.
   *
   * @default FunctionFilter.pythonRuntimes()
   */
  readonly filter?: IFunctionFilter;
}

/**
 * An aspect that makes Python `multiprocessing` work in every Lambda function
 * of its scope: it adds the `shm_redirect.so` layer of the function's
 * architecture and appends `/opt/lib/shm_redirect.so` to `LD_PRELOAD`.
 *
 * Functions that cannot take a layer or environment variables (container
 * images, Lambda@Edge) get a warning annotation; a function that would exceed
 * Lambda's 5-layer limit gets an error annotation. A function the filter
 * excludes is skipped silently when the aspect was added to a scope around it,
 * and with a warning when it was added to the function itself, which names the
 * filter that would include it. Applying it more than once,
 * or on nested scopes, changes nothing more.
 */
export class MultiprocessingFix implements IAspect {
  /**
   * Applies the fix to every function in `scope` (an app, a stage, a stack,
   * any construct, or one function).
   */
  public static applyTo(scope: IConstruct, options: MultiprocessingFixOptions = {}): MultiprocessingFix {
    const fix = new MultiprocessingFix(options);
    Aspects.of(scope).add(fix);
    return fix;
  }

  private readonly options: MultiprocessingFixOptions;
  private readonly filter: IFunctionFilter;

  public constructor(options: MultiprocessingFixOptions = {}) {
    if (options.layer !== undefined && options.layerProps !== undefined) {
      throw new Error('MultiprocessingFix: pass either `layer` or `layerProps`; `layerProps` configures the per-stack layer that `layer` replaces');
    }
    if (options.layers !== undefined && (options.layer !== undefined || options.layerProps !== undefined)) {
      throw new Error('MultiprocessingFix: `layers` (imported layers) replaces the per-stack layer that `layer` and `layerProps` make; pass only `layers`');
    }
    this.options = options;
    this.filter = options.filter ?? FunctionFilter.pythonRuntimes();
  }

  public visit(node: IConstruct): void {
    asFixVisit(() => this.visitNode(node));
  }

  private visitNode(node: IConstruct): void {
    // Added to this very construct (applyTo(fn), withMultiprocessingFix(fn), Aspects.of(fn).add):
    // the user named the function, so leaving it out must not go unsaid.
    const named = Aspects.of(node).all.includes(this);
    if (node instanceof lambda.SingletonFunction) {
      // The singleton's function lives at the stack's root, possibly outside the scope this aspect was applied to.
      const inner = singletonInner(node);
      if (inner instanceof lambda.Function) {
        this.fix(inner, named, node);
        checkFunctionLayers(inner);
      }
    } else if (node instanceof lambda.Function) {
      this.fix(node, named, node);
      checkFunctionLayers(node);
    }
  }

  private fix(fn: lambda.Function, named: boolean, met: IConstruct): void {
    if (fn.runtime.name !== lambda.Runtime.FROM_IMAGE.name && this.filter.includes(fn) && this.yieldsTo(fn, met)) {
      return;
    }
    if (handled.has(fn)) {
      return;
    }

    if (fn.runtime.name === lambda.Runtime.FROM_IMAGE.name) {
      handled.add(fn);
      const library = imageLibraryOf(fn);
      if (library === undefined) {
        Annotations.of(fn).addWarningV2(
          'cdk-lambda-multiprocessing:containerImage',
          `${fn.node.path} is a container image function: Lambda adds no layers to images. If it uses Python multiprocessing, build it with MultiprocessingImageCode.fromImageAsset(directory) instead of DockerImageCode.fromImageAsset and add one line to its Dockerfile: ${DOCKERFILE_LINE} (an image built outside CDK: see the cdk-lambda-multiprocessing README).`,
        );
        return;
      }
      const own = currentPreload(fn);
      if (own === undefined && library.imagePreload?.includes('$')) {
        // Lambda does not expand variables in a function's environment.
        Annotations.of(fn).addWarningV2(
          'cdk-lambda-multiprocessing:imagePreload',
          `${fn.node.path}: its Dockerfile sets LD_PRELOAD=${library.imagePreload}, which the function's LD_PRELOAD=${ShmRedirectLayer.PRELOAD} replaces on Lambda. If the image needs another preloaded library, give the function the whole list in \`environment\` (LD_PRELOAD, separated by ':'); it keeps it and appends shm_redirect.so.`,
        );
        this.preload(fn, undefined);
      } else {
        this.preload(fn, own ?? library.imagePreload);
      }
      hintEphemeralStorage(fn);
      return;
    }
    // Not marked as handled: another MultiprocessingFix whose filter includes it may still fix it.
    if (!this.filter.includes(fn)) {
      if (named) {
        Annotations.of(fn).addWarningV2('cdk-lambda-multiprocessing:filteredOut', this.filteredOutMessage(fn));
      }
      return;
    }
    handled.add(fn);
    if (isEdgeFunction(fn)) {
      Annotations.of(fn).addWarningV2(
        'cdk-lambda-multiprocessing:edge',
        `${fn.node.path} is a Lambda@Edge function: Lambda@Edge allows neither layers nor environment variables, so it was left unchanged. Use multiprocessing only in regional functions.`,
      );
      return;
    }

    const stack = Stack.of(fn);
    const existing = currentPreload(fn);
    if (existing !== undefined && typeof existing === 'string' && existing.split(/[:\s]+/).includes(ShmRedirectLayer.PRELOAD)) {
      return;
    }

    const layerVersion = this.layerVersionFor(fn, stack, met);
    if (layerVersion === undefined) {
      return;
    }
    const layerCount = currentLayerCount(fn);
    if (layerCount >= MAX_LAYERS) {
      Annotations.of(fn).addError(
        `${fn.node.path} already has ${layerCount} layers, Lambda's limit: the shm_redirect layer cannot be added. Merge two of its layers into one, or exclude the function with the \`filter\` option.`,
      );
      return;
    }

    fn.addLayers(layerVersion);
    this.preload(fn, existing);
    hintEphemeralStorage(fn);
  }

  /**
   * Whether a fix closer to the function (the function's own over its stack's
   * over the app's) takes it: that one applies, and options that differ from
   * it are said once, naming both places, instead of being dropped silently.
   */
  private yieldsTo(fn: lambda.Function, met: IConstruct): boolean {
    const covering = fixesAround(fn, met).filter(({ fix }) => fix.filter.includes(fn));
    const closest = covering[covering.length - 1];
    if (closest === undefined || closest.fix === this) {
      return false;
    }
    const mine = covering.find(({ fix }) => fix === this);
    if (mine !== undefined && !sameOptions(this.options, closest.fix.options)) {
      warnOnce(fn, `${place(mine.scope)}>${place(closest.scope)}`, CONFLICT_ID,
        `${fn.node.path} is given the multiprocessing fix with different options at ${place(mine.scope)} (${describeOptions(this.options)}) and at ${place(closest.scope)} (${describeOptions(closest.fix.options)}): `
        + `the one closest to the function applies, ${place(closest.scope)}'s. Give the options in one place, or acknowledge ${CONFLICT_ID}.`);
    }
    return true;
  }

  /** The stack's shared layer with this fix's props, or undefined after an error naming both places when the stack's layer has others. */
  private sharedLayer(fn: lambda.Function, met: IConstruct): ShmRedirectLayer | undefined {
    const stack = Stack.of(fn);
    const here = fixesAround(fn, met).find(({ fix }) => fix === this)?.scope ?? met;
    const first = layerOrigins.get(stack);
    if (first !== undefined && !sameOptions({ layerProps: first.props }, this.options)) {
      Annotations.of(fn).addError(
        `${fn.node.path}: the fix at ${place(here)} asks for ${describeOptions(this.options)}, but the shared layer of stack ${stack.node.path} was made for ${first.functionPath} by the fix at ${place(first.scope)} with ${describeOptions({ layerProps: first.props })}; `
        + 'one stack has one shm_redirect layer. Give both the same `layerProps`, or pass a ShmRedirectLayer of your own as `layer`.',
      );
      return undefined;
    }
    if (first === undefined) {
      layerOrigins.set(stack, { scope: here, props: this.options.layerProps ?? {}, functionPath: fn.node.path });
    }
    return ShmRedirectLayer.of(fn, this.options.layerProps);
  }

  /** The layer version `fn` gets, or undefined after an error annotation saying why there is none. */
  private layerVersionFor(fn: lambda.Function, stack: Stack, met: IConstruct): lambda.ILayerVersion | undefined {
    const imported = this.options.layers;
    if (imported !== undefined) {
      const layerVersion = imported.layerFor(fn, fn.architecture);
      if (layerVersion === undefined) {
        Annotations.of(fn).addError(
          `${fn.node.path} is a ${fn.architecture.name} function, but the layers given to MultiprocessingFix (${imported.description}) have none for ${fn.architecture.name}. Give them the ${fn.architecture.name} layer, or leave the function out with the \`filter\` option.`,
        );
      }
      return layerVersion;
    }
    const layer = this.options.layer ?? this.sharedLayer(fn, met);
    if (layer === undefined) {
      return undefined;
    }
    if (Stack.of(layer) !== stack) {
      Annotations.of(fn).addError(
        `${fn.node.path} is in stack ${stack.node.path} but the ShmRedirectLayer given to MultiprocessingFix is in stack ${Stack.of(layer).node.path}, and a ShmRedirectLayer serves the functions of its own stack only. Leave \`layer\` unset to get one per stack, or publish the layer once with ShmRedirectLayerPublisher and pass \`layers: ShmRedirectLayers.fromPublisher(publisher)\`.`,
      );
      return undefined;
    }
    return layer.layerFor(fn.architecture);
  }

  /** Appends the library to `existing` (the LD_PRELOAD the function would have) with `:`, unless it names it already. */
  private preload(fn: lambda.Function, existing: unknown): void {
    if (typeof existing === 'string' && existing.split(/[:\s]+/).includes(ShmRedirectLayer.PRELOAD)) {
      if (currentPreload(fn) !== existing) {
        fn.addEnvironment(PRELOAD_VARIABLE, existing);
      }
      return;
    }
    fn.addEnvironment(
      PRELOAD_VARIABLE,
      existing === undefined || existing === '' ? ShmRedirectLayer.PRELOAD : `${preloadText(existing)}:${ShmRedirectLayer.PRELOAD}`,
    );
  }

  private filteredOutMessage(fn: lambda.Function): string {
    const runtime = fn.runtime.name;
    const which = this.options.filter === undefined
      ? 'the default filter (FunctionFilter.pythonRuntimes()) takes only Python runtimes'
      : 'the `filter` option given excludes it';
    return `${fn.node.path} (runtime ${runtime}) was given to MultiprocessingFix by name, but ${which}, so it was left unchanged. `
      + `To fix it anyway, pass \`filter: FunctionFilter.runtimes([${runtimeExpression(runtime)}])\` or \`filter: FunctionFilter.allRuntimes()\`.`;
  }
}

/** How the user spells the runtime in code (`Runtime.NODEJS_22_X`), or its constructor for one without a constant. */
function runtimeExpression(name: string): string {
  const constant = Object.entries(lambda.Runtime).find(([, value]) => value instanceof lambda.Runtime && value.name === name);
  return constant !== undefined ? `Runtime.${constant[0]}` : `new Runtime('${name}')`;
}

/** Functions already fixed, whichever MultiprocessingFix instance got to them first. */
const handled = new WeakSet<lambda.Function>();

const CONFLICT_ID = 'cdk-lambda-multiprocessing:conflictingOptions';

/** Where each stack's shared layer was asked for first, and with which props. */
const layerOrigins = new WeakMap<Stack, { scope: IConstruct; props: ShmRedirectLayerProps; functionPath: string }>();

/** The MultiprocessingFix aspects that reach `fn` (through `met`, the construct the aspect visits), outermost first. */
function fixesAround(fn: lambda.Function, met: IConstruct): { fix: MultiprocessingFix; scope: IConstruct }[] {
  const scopes = met === fn ? fn.node.scopes : [...met.node.scopes, fn];
  return scopes.flatMap((scope) =>
    Aspects.of(scope).all.filter((a): a is MultiprocessingFix => a instanceof MultiprocessingFix).map((fix) => ({ fix, scope })),
  );
}

function sameOptions(a: MultiprocessingFixOptions, b: MultiprocessingFixOptions): boolean {
  return a.layer === b.layer && a.layers === b.layers && sameLayerBuild(a.layerProps ?? {}, b.layerProps ?? {});
}

function describeOptions(options: MultiprocessingFixOptions): string {
  if (options.layer !== undefined) {
    return `layer ${options.layer.node.path}`;
  }
  if (options.layers !== undefined) {
    return `layers ${options.layers.description}`;
  }
  const props = options.layerProps ?? {};
  const image = buildImageOf(props);
  return [
    `libraryBuild: LibraryBuild.${libraryBuildName(props)}`,
    ...(image !== undefined ? [`libraryBuildImage: ${image.image}`] : []),
    ...(props.removalPolicy !== undefined ? [`removalPolicy: ${props.removalPolicy}`] : []),
  ].join(', ');
}

function libraryBuildName(props: ShmRedirectLayerProps): string {
  const build = libraryBuildOf(props);
  return Object.entries(LibraryBuild).find(([, value]) => value === build)?.[0] ?? String(build);
}

function place(scope: IConstruct): string {
  return scope.node.path === '' ? 'the app' : scope.node.path;
}

const warned = new WeakMap<IConstruct, Set<string>>();

function warnOnce(scope: IConstruct, key: string, id: string, message: string): void {
  const seen = warned.get(scope) ?? new Set<string>();
  warned.set(scope, seen);
  if (!seen.has(key)) {
    seen.add(key);
    Annotations.of(scope).addWarningV2(id, message);
  }
}

/**
 * `constructName` names the singleton's function since aws-cdk-lib made it
 * public; releases before that (down to this library's floor) keep the
 * function only in the private `lambdaFunction` field.
 */
function singletonInner(singleton: lambda.SingletonFunction): IConstruct | undefined {
  const { constructName, lambdaFunction } = singleton as unknown as { constructName?: string; lambdaFunction?: IConstruct };
  return constructName !== undefined ? Stack.of(singleton).node.tryFindChild(constructName) : lambdaFunction;
}

function cfnOf(fn: lambda.Function): lambda.CfnFunction {
  return fn.node.defaultChild as lambda.CfnFunction;
}

/** LD_PRELOAD as the template will have it: a string, a resolved token (object), or undefined. */
function currentPreload(fn: lambda.Function): unknown {
  const environment = Stack.of(fn).resolve(cfnOf(fn).environment) as { variables?: Record<string, unknown> } | undefined;
  return environment?.variables?.[PRELOAD_VARIABLE];
}

/** Back to a string for concatenation; a resolved token becomes a token again and renders as Fn::Join. */
function preloadText(value: unknown): string {
  return typeof value === 'string' ? value : Token.asString(value);
}

function currentLayerCount(fn: lambda.Function): number {
  const layers = Stack.of(fn).resolve(cfnOf(fn).layers) as unknown[] | undefined;
  return layers?.length ?? 0;
}

/**
 * Lambda@Edge functions are recognised by their EdgeFunction parent or by
 * the trust of their role in edgelambda.amazonaws.com, which Lambda@Edge
 * requires (EdgeFunction adds it in every region).
 */
function isEdgeFunction(fn: lambda.Function): boolean {
  if (fn.node.scopes.some((scope) => scope instanceof cloudfront.experimental.EdgeFunction)) {
    return true;
  }
  const role = fn.role;
  if (!(role instanceof iam.Role) || role.assumeRolePolicy === undefined) {
    return false;
  }
  return JSON.stringify(Stack.of(role).resolve(role.assumeRolePolicy)).includes('edgelambda.amazonaws.com');
}
