import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair } from 'yaml';
import type { SourceLocation } from '../core/errors.ts';

export type YamlPath = readonly PropertyKey[];

/** The key and value nodes of one entry found along a path. */
interface Found {
  key?: Node;
  value?: Node;
}

/**
 * Maps parsed YAML back to file:line:column: by character offset, or by the
 * path of keys/indexes that zod and our own checks report.
 */
export class YamlSource {
  constructor(
    readonly doc: Document,
    readonly lineCounter: LineCounter,
    /** The file name shown to the user. */
    readonly file: string,
  ) {}

  /** Location of a character offset. */
  at(offset: number): SourceLocation {
    const { line, col } = this.lineCounter.linePos(offset);
    return { file: this.file, line, column: col };
  }

  /** Location of a node's first character, or of the file when it has none. */
  ofNode(node: Node | undefined): SourceLocation {
    const start = node?.range?.[0];
    return start === undefined ? { file: this.file, line: 1, column: 1 } : this.at(start);
  }

  /**
   * Location of the value at `path` (or of its key with `prefer: 'key'`). When
   * the path does not exist to the end, the deepest entry that exists is used,
   * so a missing key points at the map that lacks it.
   */
  locate(path: YamlPath, prefer: 'key' | 'value' = 'value'): SourceLocation {
    const found = this.deepest(path).found;
    const value = found.value && hasText(found.value) ? found.value : undefined;
    const node = prefer === 'key' ? (found.key ?? value) : (value ?? found.key);
    return this.ofNode(node ?? (this.doc.contents as Node | null) ?? undefined);
  }

  /** Location of the key `key` inside the map at `path` (e.g. an unknown key). */
  locateKey(path: YamlPath, key: string): SourceLocation {
    return this.locate([...path, key], 'key');
  }

  /** The key/value nodes at `path`, or undefined when the path does not exist. */
  find(path: YamlPath): Found | undefined {
    const { found, complete } = this.deepest(path);
    return complete ? found : undefined;
  }

  /** Deepest key/value nodes reachable along `path`. */
  private deepest(path: YamlPath): { found: Found; complete: boolean } {
    let found: Found = { value: (this.doc.contents as Node | null) ?? undefined };
    for (const step of path) {
      const node = this.deref(found.value);
      let next: Found | undefined;
      if (isMap(node)) {
        const pair = node.items.find((p) => keyText(p) === String(step));
        if (pair) next = { key: pair.key as Node, value: (pair.value as Node | null) ?? undefined };
      } else if (isSeq(node) && typeof step === 'number') {
        const item = node.items[step];
        if (item !== undefined) next = { value: (isPair(item) ? item.value : item) as Node };
      }
      if (!next) return { found, complete: false };
      found = next;
    }
    return { found, complete: true };
  }

  private deref(node: Node | undefined): Node | undefined {
    if (node && isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? undefined;
    return node;
  }
}

function keyText(pair: Pair): string | undefined {
  const k = pair.key;
  if (isScalar(k)) return String(k.value);
  return typeof k === 'string' ? k : undefined;
}

/** An empty value (`key:` with nothing) has no text of its own: point at its key instead. */
function hasText(node: Node): boolean {
  const r = node.range;
  return !!r && r[1] > r[0];
}
