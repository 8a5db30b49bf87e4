import * as path from 'path';

/**
 * Just enough of a Dockerfile to tell, at synth, whether the image an asset
 * builds gets the library from a named build context: its stages, which
 * stages the built one includes, its `COPY --from=` lines, its platform and
 * its `LD_PRELOAD`. Unknowns (variables, globs, relative destinations) are
 * reported as such so that callers never turn a guess into an error.
 */

export interface DockerfileStage {
  readonly index: number;
  /** Line of its FROM, from 1. */
  readonly line: number;
  /** `AS` name, lower case (stage names are case-insensitive). */
  readonly name?: string;
  /** The image or stage after FROM. */
  readonly base: string;
  /** `FROM --platform=` as written. */
  readonly platform?: string;
  readonly copies: CopyInstruction[];
  /** Values of `ENV LD_PRELOAD`, in order. */
  readonly preloads: string[];
}

export interface CopyInstruction {
  readonly line: number;
  /** `--from=` as written, if any. */
  readonly from?: string;
  readonly sources: string[];
  readonly destination: string;
}

export interface Dockerfile {
  readonly stages: DockerfileStage[];
}

interface Instruction {
  readonly line: number;
  readonly keyword: string;
  readonly args: string;
}

export function parseDockerfile(text: string): Dockerfile {
  const stages: { index: number; line: number; name?: string; base: string; platform?: string; copies: CopyInstruction[]; preloads: string[] }[] = [];
  for (const instruction of instructions(text)) {
    if (instruction.keyword === 'FROM') {
      const { flags, rest } = leadingFlags(instruction.args);
      const words = shellWords(rest);
      const as = words.length >= 3 && words[1].toUpperCase() === 'AS' ? words[2].toLowerCase() : undefined;
      stages.push({ index: stages.length, line: instruction.line, name: as, base: words[0] ?? '', platform: flags.platform, copies: [], preloads: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (stage === undefined) {
      continue; // ARG before the first FROM
    }
    if (instruction.keyword === 'COPY') {
      const { flags, rest } = leadingFlags(instruction.args);
      const paths = rest.startsWith('[') ? jsonWords(rest) : shellWords(rest);
      if (paths.length >= 2) {
        stage.copies.push({ line: instruction.line, from: flags.from, sources: paths.slice(0, -1), destination: paths[paths.length - 1] });
      }
    } else if (instruction.keyword === 'ENV') {
      const value = envValue(instruction.args, 'LD_PRELOAD');
      if (value !== undefined) {
        stage.preloads.push(value);
      }
    }
  }
  return { stages };
}

/** The stage `docker build --target` builds, or the last one. */
export function builtStage(dockerfile: Dockerfile, target?: string): DockerfileStage | undefined {
  if (target === undefined) {
    return dockerfile.stages[dockerfile.stages.length - 1];
  }
  return dockerfile.stages.find((s) => s.name === target.toLowerCase());
}

/** `stage` and the stages it is built FROM, nearest first. */
export function baseChain(dockerfile: Dockerfile, stage: DockerfileStage): DockerfileStage[] {
  const chain = [stage];
  let current: DockerfileStage | undefined = stage;
  while ((current = stageNamed(dockerfile, current.base, current.index)) !== undefined) {
    chain.push(current);
  }
  return chain;
}

/** Every stage whose files can reach `stage`: its base chain and what they COPY --from, recursively. */
export function stagesIncludedIn(dockerfile: Dockerfile, stage: DockerfileStage): DockerfileStage[] {
  const seen = new Set<number>();
  const queue = [stage];
  while (queue.length > 0) {
    const next = queue.pop()!;
    if (seen.has(next.index)) {
      continue;
    }
    seen.add(next.index);
    const base = stageNamed(dockerfile, next.base, next.index);
    if (base !== undefined) {
      queue.push(base);
    }
    for (const copy of next.copies) {
      const from = copy.from === undefined ? undefined : stageNamed(dockerfile, copy.from, next.index);
      if (from !== undefined) {
        queue.push(from);
      }
    }
  }
  return dockerfile.stages.filter((s) => seen.has(s.index));
}

/** A stage referred to by name or number from a stage after it. */
export function stageNamed(dockerfile: Dockerfile, reference: string, before: number): DockerfileStage | undefined {
  const wanted = reference.toLowerCase();
  return dockerfile.stages.find((s) => s.index < before && (s.name === wanted || String(s.index) === wanted));
}

/**
 * Where `COPY` puts the file at `file` (absolute, in the source) in the
 * image: the absolute path, `undefined` when it does not copy that file, or
 * 'unknown' when the Dockerfile leaves it open (a glob, a variable, a
 * destination relative to WORKDIR).
 */
export function copiedTo(copy: CopyInstruction, file: string): string | undefined | 'unknown' {
  if ([...copy.sources, copy.destination].some((p) => /[$*?[]/.test(p)) || !copy.destination.startsWith('/')) {
    return 'unknown';
  }
  const destinationIsDirectory = copy.destination.endsWith('/') || copy.sources.length > 1;
  for (const source of copy.sources) {
    const normalized = path.posix.normalize(`/${source}`).replace(/\/+$/, '') || '/';
    if (normalized === file) {
      return destinationIsDirectory ? path.posix.join(copy.destination, path.posix.basename(file)) : path.posix.normalize(copy.destination);
    }
    const prefix = normalized === '/' ? '/' : `${normalized}/`;
    if (file.startsWith(prefix)) {
      return path.posix.join(copy.destination, file.slice(prefix.length));
    }
  }
  return undefined;
}

/** Logical instructions: comments dropped, continuation lines joined, heredoc bodies skipped. */
function instructions(text: string): Instruction[] {
  const lines = text.split(/\r?\n/);
  const escape = escapeCharacter(lines);
  const result: Instruction[] = [];
  let i = 0;
  while (i < lines.length) {
    const start = i;
    let joined = '';
    for (; i < lines.length; i++) {
      const line = lines[i];
      if (/^\s*#/.test(line) || (joined !== '' && line.trim() === '')) {
        continue;
      }
      const trimmed = line.replace(/\s+$/, '');
      if (trimmed.endsWith(escape)) {
        joined += `${trimmed.slice(0, -1)} `;
        continue;
      }
      joined += line;
      break;
    }
    i++;
    const match = /^\s*([A-Za-z]+)\s*(.*)$/.exec(joined);
    if (match === null) {
      continue;
    }
    result.push({ line: start + 1, keyword: match[1].toUpperCase(), args: match[2].trim() });
    for (const heredoc of joined.matchAll(/<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g)) {
      const stripTabs = heredoc[1] === '-';
      while (i < lines.length && (stripTabs ? lines[i].replace(/^\t+/, '') : lines[i]) !== heredoc[3]) {
        i++;
      }
      i++;
    }
  }
  return result;
}

/** The `# escape=` parser directive, which must come before anything else. */
function escapeCharacter(lines: string[]): string {
  for (const line of lines) {
    const directive = /^\s*#\s*([A-Za-z]+)\s*=\s*(\S+)\s*$/.exec(line);
    if (directive === null) {
      break;
    }
    if (directive[1].toLowerCase() === 'escape' && (directive[2] === '`' || directive[2] === '\\')) {
      return directive[2];
    }
  }
  return '\\';
}

/** `--name=value` options before the arguments, and the arguments as written. */
function leadingFlags(args: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = args;
  let flag: RegExpExecArray | null;
  while ((flag = /^--([a-z-]+)(?:=("[^"]*"|'[^']*'|\S*))?\s*/.exec(rest)) !== null) {
    flags[flag[1]] = (flag[2] ?? 'true').replace(/^(["'])(.*)\1$/, '$2');
    rest = rest.slice(flag[0].length);
  }
  return { flags, rest };
}

/** The exec (JSON) form: `["/opt", "/opt"]`. */
function jsonWords(text: string): string[] {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) && parsed.every((p) => typeof p === 'string') ? parsed : [];
  } catch {
    return [];
  }
}

/** Splits on whitespace, honouring double and single quotes. */
function shellWords(text: string): string[] {
  const words: string[] = [];
  for (const match of text.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)) {
    words.push(match[1] ?? match[2] ?? match[3]);
  }
  return words;
}

/** The value ENV gives `name` (`ENV NAME=value ...` or `ENV NAME value`), quotes removed. */
function envValue(args: string, name: string): string | undefined {
  const words = shellWordsKeepingAssignments(args);
  if (words.length > 0 && !words[0].includes('=')) {
    return words[0] === name ? args.slice(args.indexOf(name) + name.length).trim().replace(/^(["'])(.*)\1$/, '$2') : undefined;
  }
  let value: string | undefined;
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq > 0 && word.slice(0, eq) === name) {
      value = word.slice(eq + 1).replace(/^(["'])(.*)\1$/, '$2');
    }
  }
  return value;
}

/** `A="x y" B=z` → [`A="x y"`, `B=z`]. */
function shellWordsKeepingAssignments(text: string): string[] {
  return [...text.matchAll(/(?:[^\s"']+|"(?:[^"\\]|\\.)*"|'[^']*')+/g)].map((m) => m[0]);
}
