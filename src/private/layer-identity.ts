import { Annotations, Aspects, IAspect, Stack, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';

/** What this library knows about a layer version it made or imported. */
export interface LayerIdentity {
  /** `x86_64` or `arm64`. */
  readonly architecture: string;
  /** The shm_redirect version inside, when known at synth time. */
  readonly libraryVersion?: string;
  /** Where the layer comes from, as a user would recognise it in the template's metadata. */
  readonly source: string;
}

/** The key of the function's CloudFormation Metadata entry. */
export const FUNCTION_METADATA_KEY = 'cdk-lambda-multiprocessing';

export const WRONG_ARCHITECTURE_WARNING = 'cdk-lambda-multiprocessing:layerArchitecture';

const identities = new WeakMap<lambda.ILayerVersion, LayerIdentity>();
/** The layers of each app (construct tree root), to find them among a function's layers. */
const layersOfRoot = new WeakMap<IConstruct, lambda.ILayerVersion[]>();
/** Warnings already given, so that the aspect and the fix visiting one function say it once. */
const warned = new WeakMap<lambda.Function, Set<string>>();

/** Marks `layer` as one of ours. */
export function registerLayer(layer: lambda.ILayerVersion, identity: LayerIdentity): void {
  identities.set(layer, identity);
  const root = layer.node.root;
  const layers = layersOfRoot.get(root) ?? [];
  layers.push(layer);
  layersOfRoot.set(root, layers);
}

/** The identity of `layer` when it is one of ours. */
export function identityOf(layer: lambda.ILayerVersion): LayerIdentity | undefined {
  return identities.get(layer);
}

/**
 * Records in the function's template which library it runs (a Metadata
 * entry), and warns when it carries a layer of ours built for the other
 * architecture: the dynamic linker skips such a library without a word.
 */
export function checkFunctionLayers(fn: lambda.Function): void {
  const ours = ourLayersOf(fn);
  if (ours.length === 0) {
    return;
  }
  const architecture = fn.architecture.name;
  const matching = ours.filter((identity) => identity.architecture === architecture);
  for (const identity of ours.filter((i) => i.architecture !== architecture)) {
    const message =
      `${fn.node.path} is ${architecture} but carries the shm_redirect layer for ${identity.architecture} (${identity.source}): ` +
      'Lambda\'s dynamic linker skips a library of another architecture silently, so multiprocessing stays broken. ' +
      'Give it the layer of its architecture (layer.layerFor(fn.architecture), or let MultiprocessingFix add it) and remove the other.';
    const given = warned.get(fn) ?? new Set<string>();
    if (!given.has(message)) {
      given.add(message);
      warned.set(fn, given);
      Annotations.of(fn).addWarningV2(WRONG_ARCHITECTURE_WARNING, message);
    }
  }
  const cfn = fn.node.defaultChild as lambda.CfnFunction;
  const described = (matching.length > 0 ? matching : ours).map((identity) => ({
    libraryVersion: identity.libraryVersion ?? 'not known at synth time',
    architecture: identity.architecture,
    layer: identity.source,
  }));
  cfn.addMetadata(FUNCTION_METADATA_KEY, { shmRedirect: described.length === 1 ? described[0] : described });
}

/**
 * Runs {@link checkFunctionLayers} on every function of the app that holds
 * `scope`, also those no MultiprocessingFix covers (a layer added by hand).
 * Added once per app, while the tree is being built (never from an aspect:
 * an aspect added by another aspect is not run).
 */
export function checkLayersOfApp(scope: IConstruct): void {
  const root = scope.node.root;
  if (fixing > 0 || checkedRoots.has(root)) {
    return;
  }
  checkedRoots.add(root);
  Aspects.of(root).add(new LayerArchitectureCheck());
}

const checkedRoots = new WeakSet<IConstruct>();

/** How many MultiprocessingFix visits are under way; the fix checks the functions it visits itself. */
let fixing = 0;

/** Runs `visit` as a MultiprocessingFix visit: layers made meanwhile add no aspect. */
export function asFixVisit(visit: () => void): void {
  fixing++;
  try {
    visit();
  } finally {
    fixing--;
  }
}

class LayerArchitectureCheck implements IAspect {
  public visit(node: IConstruct): void {
    if (node instanceof lambda.Function) {
      checkFunctionLayers(node);
    }
  }
}

/**
 * Our layers among the function's, compared as the template will hold them
 * (a layer of the same stack renders as its Ref, an imported one as its ARN).
 */
function ourLayersOf(fn: lambda.Function): LayerIdentity[] {
  const candidates = layersOfRoot.get(fn.node.root);
  if (candidates === undefined) {
    return [];
  }
  const stack = Stack.of(fn);
  const cfn = fn.node.defaultChild as lambda.CfnFunction;
  const carried = stack.resolve(cfn.layers) as unknown[] | undefined;
  if (carried === undefined || carried.length === 0) {
    return [];
  }
  const found: LayerIdentity[] = [];
  for (const key of carried.map((value) => JSON.stringify(value))) {
    // A literal ARN renders alike in every stack: the stack's own import of it says most.
    const matches = candidates.filter((layer) => renderedIn(stack, layer) === key);
    const best = matches.find((layer) => Stack.of(layer) === stack) ?? matches[0];
    if (best !== undefined) {
      found.push(identities.get(best)!);
    }
  }
  return found;
}

function renderedIn(stack: Stack, layer: lambda.ILayerVersion): string {
  const arn = layer.layerVersionArn;
  return JSON.stringify(Token.isUnresolved(arn) ? stack.resolve(arn) : arn);
}
