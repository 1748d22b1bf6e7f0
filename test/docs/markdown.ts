// Reads the user-facing markdown (README.md and docs/*.md) for the docs tests: its fenced code
// blocks with their snippet markers, and its `cinder …` command lines.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The markdown files a new user reads: README.md and docs/*.md, as paths relative to the repository root. */
export function docFiles(root = '.'): string[] {
  const docs = readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

/** A fenced code block. */
export interface CodeBlock {
  /** Markdown file, relative to the repository root. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** Info string of the fence (`ts`, `sh`, empty). */
  lang: string;
  /** The block's text, without the fences. */
  code: string;
  /**
   * Snippet markers (HTML comments, invisible when rendered) between the previous block and this one:
   * `<!-- snippet: fragment -->` (not a complete program: not type-checked) or
   * `<!-- snippet: context … -->` (hidden code the block is checked inside: declarations of what the
   * prose assumes; the block goes where a line `/*SNIPPET*\/` stands, else after it). The rest of
   * the marker's first line is a label, not code.
   */
  fragment: boolean;
  /** Hidden context code, or undefined. */
  context?: string;
}

/** Every fenced code block of `file`, with the snippet markers that precede it. */
export function codeBlocks(file: string, root = '.'): CodeBlock[] {
  const lines = readFileSync(path.join(root, file), 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  let fragment = false;
  let context: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const marker = /^\s*<!--\s*snippet:\s*(fragment|context)\b(.*)$/.exec(l);
    if (marker) {
      if (marker[1] === 'fragment') {
        fragment = true;
        continue;
      }
      // the rest of the marker's own line is a label for the reader, not code
      const body: string[] = [];
      let rest = marker[2]!.includes('-->') ? '-->' : '';
      for (;;) {
        const end = rest.indexOf('-->');
        if (end >= 0) {
          if (rest.slice(0, end).trim()) body.push(rest.slice(0, end));
          break;
        }
        if (rest.trim()) body.push(rest);
        i++;
        if (i >= lines.length) throw new Error(`${file}:${i}: unterminated snippet comment`);
        rest = lines[i]!;
      }
      context = body.join('\n');
      continue;
    }
    const open = /^(\s*)```(\S*)\s*$/.exec(l);
    if (!open) continue;
    const indent = open[1]!.length;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]!); i++) body.push(lines[i]!.slice(Math.min(indent, lines[i]!.length - lines[i]!.trimStart().length)));
    blocks.push({ file, line: start + 1, lang: open[2]!, code: body.join('\n'), fragment, context });
    fragment = false;
    context = undefined;
  }
  return blocks;
}

/** The ```ts blocks of every doc file. */
export function tsBlocks(root = '.'): CodeBlock[] {
  return docFiles(root).flatMap((f) => codeBlocks(f, root).filter((b) => b.lang === 'ts' || b.lang === 'typescript'));
}

/**
 * A block made into a module importing from src/ instead of the package: `'cinder-snn'` →
 * src/index.ts, `'cinder-snn/node'` → src/node.ts, seen from `dir`; the hidden context around it.
 */
export function snippetModule(block: CodeBlock, dir: string, root = '.'): string {
  const rel = (p: string) => {
    const r = path.relative(dir, path.resolve(root, p)).split(path.sep).join('/');
    return r.startsWith('.') ? r : `./${r}`;
  };
  const rewrite = (s: string) =>
    s
      .replace(/(['"])cinder-snn\/node\1/g, `'${rel('src/node.js')}'`)
      .replace(/(['"])cinder-snn\1/g, `'${rel('src/index.js')}'`)
      // an example's own index.ts (examples/<name>/) imports src/ relatively
      .replace(/(['"])\.\.\/\.\.\/src\//g, `$1${rel('src')}/`);
  const code = rewrite(block.code);
  const ctx = block.context === undefined ? '' : rewrite(block.context);
  const whole = ctx.includes('/*SNIPPET*/') ? ctx.replace('/*SNIPPET*/', code) : `${ctx}\n${code}`;
  return `${whole}\nexport {};\n`;
}
