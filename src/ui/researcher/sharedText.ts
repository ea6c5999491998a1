/**
 * Binds a textarea to a Yjs text (a shared draft): local edits become the smallest
 * delete + insert on the Y.Text; remote edits update the value and keep the caret where it was
 * relative to the surrounding text.
 */
import { useEffect, useRef } from 'react';
import type * as Y from 'yjs';

/** Smallest single replacement turning `a` into `b`: [start, deleteCount, insertText]. */
export function diffText(a: string, b: string): [number, number, string] {
  let start = 0;
  const max = Math.min(a.length, b.length);
  while (start < max && a.charCodeAt(start) === b.charCodeAt(start)) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a.charCodeAt(endA - 1) === b.charCodeAt(endB - 1)) {
    endA--;
    endB--;
  }
  return [start, endA - start, b.slice(start, endB)];
}

/** Where index `i` moves after a Y.Text delta (retain / insert / delete operations). */
export function shiftIndex(
  i: number,
  delta: readonly { retain?: number; insert?: unknown; delete?: number }[],
): number {
  let pos = 0;
  let out = i;
  for (const op of delta) {
    if (pos > i) break;
    if (op.retain !== undefined) pos += op.retain;
    else if (typeof op.insert === 'string') {
      if (pos <= i) out += op.insert.length;
      pos += op.insert.length;
    } else if (op.delete !== undefined) {
      out -= Math.min(op.delete, Math.max(0, i - pos));
    }
  }
  return Math.max(0, out);
}

/**
 * While `ytext` is set: mirrors it into `setText`, and returns `write(next)` that applies a local
 * edit to it. `ref` is the textarea, for caret preservation.
 */
export function useSharedText(
  ytext: Y.Text | undefined,
  setText: (t: string) => void,
  ref: React.RefObject<HTMLTextAreaElement | null>,
): (next: string) => void {
  const current = useRef('');
  useEffect(() => {
    if (!ytext) return;
    current.current = ytext.toString();
    setText(current.current);
    const onChange = (e: Y.YTextEvent, tr: Y.Transaction) => {
      const el = ref.current;
      const text = ytext.toString();
      if (text === current.current) return;
      let sel: [number, number] | undefined;
      if (el && !tr.local && document.activeElement === el) {
        const delta = e.delta as { retain?: number; insert?: unknown; delete?: number }[];
        sel = [shiftIndex(el.selectionStart, delta), shiftIndex(el.selectionEnd, delta)];
      }
      current.current = text;
      setText(text);
      if (sel && el) {
        const [s, t] = sel;
        requestAnimationFrame(() => el.setSelectionRange(s, t));
      }
    };
    ytext.observe(onChange);
    return () => ytext.unobserve(onChange);
  }, [ytext, setText, ref]);
  return (next: string) => {
    if (!ytext) return;
    const [start, del, ins] = diffText(ytext.toString(), next);
    if (del === 0 && ins === '') return;
    current.current = next;
    ytext.doc?.transact(() => {
      if (del) ytext.delete(start, del);
      if (ins) ytext.insert(start, ins);
    });
    if (!ytext.doc) {
      if (del) ytext.delete(start, del);
      if (ins) ytext.insert(start, ins);
    }
  };
}
