/**
 * Compiles src/mpc/wasm/field.wat with wabt into a generated TypeScript module holding the bytes
 * (base64), so the same engine loads synchronously in Node, in Web Workers and in tests without
 * fetching anything. Skips the work when the output is newer than the source.
 */
import { readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import wabtInit from 'wabt';

const SRC = 'src/mpc/wasm/field.wat';
const OUT = 'src/mpc/wasm/field.wasm.ts';

/**
 * Expands the arithmetic macros of field.wat (see its header). Operands are local names such as $x.
 * The scratch locals $_x/$_y hold copies so that @mulmod($v, $v, $v) is safe.
 */
export function expandMacros(wat: string): string {
  const P = '(global.get $P)';
  const g = (name: string) => `(local.get ${name})`;
  const lo = (name: string) => `(i64.and ${g(name)} (i64.const 0xFFFFFFFF))`;
  const hi = (name: string) => `(i64.shr_u ${g(name)} (i64.const 32))`;
  const lazy = (d: string, x: string, y: string) =>
    `(local.set $_x ${g(x)}) (local.set $_y ${g(y)})` +
    ` (local.set $_ll (i64.mul ${lo('$_x')} ${lo('$_y')}))` +
    ` (local.set $_mid (i64.add (i64.mul ${lo('$_x')} ${hi('$_y')}) (i64.mul ${hi('$_x')} ${lo('$_y')})))` +
    ` (local.set ${d} (i64.add (i64.add (i64.shl (i64.mul ${hi('$_x')} ${hi('$_y')}) (i64.const 3))` +
    ` (i64.add (i64.shr_u ${g('$_mid')} (i64.const 29)) (i64.shl (i64.and ${g('$_mid')} (i64.const 0x1FFFFFFF)) (i64.const 32))))` +
    ` (i64.add (i64.shr_u ${g('$_ll')} (i64.const 61)) (i64.and ${g('$_ll')} ${P}))))`;
  const fold = (d: string) =>
    `(local.set ${d} (i64.add (i64.and ${g(d)} ${P}) (i64.shr_u ${g(d)} (i64.const 61))))` +
    ` (local.set ${d} (select (i64.sub ${g(d)} ${P}) ${g(d)} (i64.ge_u ${g(d)} ${P})))`;
  const macros: Record<string, (...a: string[]) => string> = {
    mullazy: (d, x, y) => lazy(d!, x!, y!),
    mulmod: (d, x, y) => `${lazy(d!, x!, y!)} ${fold(d!)}`,
    fold: (d) => fold(d!),
    // x*y folded once but not conditionally reduced: < 2^61 + 4, so up to 7 of them sum below 2^64 - 2^61
    mulpart: (d, x, y) =>
      `${lazy(d!, x!, y!)} (local.set ${d} (i64.add (i64.and ${g(d!)} ${P}) (i64.shr_u ${g(d!)} (i64.const 61))))`,
    addmod: (d, x, y) =>
      `(local.set ${d} (i64.add ${g(x!)} ${g(y!)}))` +
      ` (local.set ${d} (select (i64.sub ${g(d!)} ${P}) ${g(d!)} (i64.ge_u ${g(d!)} ${P})))`,
    submod: (d, x, y) =>
      `(local.set ${d} (select (i64.sub ${g(x!)} ${g(y!)}) (i64.add (i64.sub ${g(x!)} ${g(y!)}) ${P}) (i64.ge_u ${g(x!)} ${g(y!)})))`,
  };
  // SIMD (two i64 lanes): the same product from 32-bit halves. The halves are gathered into i32
  // lanes [x_lo0, x_lo1, x_hi0, x_hi1] by one shuffle, so the widening unsigned multiplies
  // (extmul_low / extmul_high: two 32x32->64 products each) give lo·lo, hi·hi and, against the
  // half-swapped y, the two cross products.
  const vg = (name: string) => `(local.get ${name})`;
  const vP = '(v128.const i64x2 0x1FFFFFFFFFFFFFFF 0x1FFFFFFFFFFFFFFF)';
  const halves = (v: string) => `(i8x16.shuffle 0 1 2 3 8 9 10 11 4 5 6 7 12 13 14 15 ${v} ${v})`;
  const vlazy = (d: string, x: string, y: string) =>
    `(local.set $_vx ${halves(vg(x))})` +
    (x === y ? ` (local.set $_vy (local.get $_vx))` : ` (local.set $_vy ${halves(vg(y))})`) +
    ` (local.set $_vs (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $_vy) (local.get $_vy)))` +
    ` (local.set $_vl (i64x2.extmul_low_i32x4_u (local.get $_vx) (local.get $_vy)))` +
    ` (local.set $_vm (i64x2.add (i64x2.extmul_low_i32x4_u (local.get $_vx) (local.get $_vs))` +
    ` (i64x2.extmul_high_i32x4_u (local.get $_vx) (local.get $_vs))))` +
    ` (local.set ${d} (i64x2.add (i64x2.add (i64x2.shl (i64x2.extmul_high_i32x4_u (local.get $_vx) (local.get $_vy)) (i32.const 3))` +
    ` (i64x2.add (i64x2.shr_u (local.get $_vm) (i32.const 29)) (i64x2.shl (v128.and (local.get $_vm) (v128.const i64x2 0x1FFFFFFF 0x1FFFFFFF)) (i32.const 32))))` +
    ` (i64x2.add (i64x2.shr_u (local.get $_vl) (i32.const 61)) (v128.and (local.get $_vl) ${vP}))))`;
  const vfold = (d: string) =>
    `(local.set ${d} (i64x2.add (v128.and ${vg(d)} ${vP}) (i64x2.shr_u ${vg(d)} (i32.const 61))))` +
    ` (local.set $_vs (i64x2.sub ${vg(d)} ${vP}))` +
    ` (local.set ${d} (v128.bitselect ${vg(d)} (local.get $_vs) (i64x2.shr_s (local.get $_vs) (i32.const 63))))`;
  // products with a loop-invariant y whose halves were prepared once by @vprep(yh, ys, y)
  const vlazyPre = (d: string, x: string, yh: string, ys: string) =>
    `(local.set $_vx ${halves(vg(x))})` +
    ` (local.set $_vl (i64x2.extmul_low_i32x4_u (local.get $_vx) ${vg(yh)}))` +
    ` (local.set $_vm (i64x2.add (i64x2.extmul_low_i32x4_u (local.get $_vx) ${vg(ys)})` +
    ` (i64x2.extmul_high_i32x4_u (local.get $_vx) ${vg(ys)})))` +
    ` (local.set ${d} (i64x2.add (i64x2.add (i64x2.shl (i64x2.extmul_high_i32x4_u (local.get $_vx) ${vg(yh)}) (i32.const 3))` +
    ` (i64x2.add (i64x2.shr_u (local.get $_vm) (i32.const 29)) (i64x2.shl (v128.and (local.get $_vm) (v128.const i64x2 0x1FFFFFFF 0x1FFFFFFF)) (i32.const 32))))` +
    ` (i64x2.add (i64x2.shr_u (local.get $_vl) (i32.const 61)) (v128.and (local.get $_vl) ${vP}))))`;
  macros.vprep = (yh, ys, y) =>
    `(local.set ${yh} ${halves(`(i64x2.splat ${g(y!)})`)})` +
    ` (local.set ${ys} (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 ${vg(yh!)} ${vg(yh!)}))`;
  // x*y with prepared y, folded once (< 2^61 + 4 per lane, like @mulpart)
  macros.vmulpartk = (d, x, yh, ys) =>
    `${vlazyPre(d!, x!, yh!, ys!)} (local.set ${d} (i64x2.add (v128.and ${vg(d!)} ${vP}) (i64x2.shr_u ${vg(d!)} (i32.const 61))))`;
  macros.vmullazy = (d, x, y) => vlazy(d!, x!, y!);
  macros.vmulmod = (d, x, y) => `${vlazy(d!, x!, y!)} ${vfold(d!)}`;
  macros.vfold = (d) => vfold(d!);
  return wat
    .replace(
      /@vlocals/g,
      '(local $_vx v128) (local $_vy v128) (local $_vs v128) (local $_vl v128) (local $_vm v128)',
    )
    .replace(/@locals/g, '(local $_x i64) (local $_y i64) (local $_ll i64) (local $_mid i64)')
    .replace(/@(\w+)\(([^)]*)\)/g, (whole, name: string, args: string) => {
      const m = macros[name];
      if (!m) throw new Error(`build-wasm: unknown macro ${whole}`);
      return m(...args.split(',').map((a) => a.trim()));
    });
}

export async function buildWasm(force = false): Promise<void> {
  if (!force && existsSync(OUT) && statSync(OUT).mtimeMs >= statSync(SRC).mtimeMs) return;
  const wabt = await wabtInit();
  const mod = wabt.parseWat(SRC, expandMacros(readFileSync(SRC, 'utf8')));
  mod.validate();
  const { buffer } = mod.toBinary({ log: false, write_debug_names: false });
  mod.destroy();
  const b64 = Buffer.from(buffer).toString('base64');
  writeFileSync(
    OUT,
    `// Generated by scripts/build-wasm.ts from field.wat — do not edit.\n` +
      `export const FIELD_WASM_BASE64 = '${b64}';\n` +
      `export const FIELD_WASM_SIZE = ${buffer.length};\n`,
  );
  console.error(`[build-wasm] ${SRC} -> ${OUT} (${buffer.length} bytes)`);
}

if (import.meta.url === `file://${process.argv[1]}`)
  await buildWasm(process.argv.includes('--force'));
