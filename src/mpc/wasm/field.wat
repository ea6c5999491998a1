;; Vector kernels over the Mersenne prime field p = 2^61 - 1.
;;
;; Elements are u64 little-endian, always fully reduced (0 <= x < p). Every kernel takes byte
;; offsets into this module's memory and an element count; the TypeScript wrapper
;; (src/mpc/field.ts) copies columns into fixed scratch slots chunk by chunk, so memory never grows.
;;
;; Macros (expanded by scripts/build-wasm.ts, because V8 does not inline small wasm functions and
;; a call per element costs 2-3x): @mulmod(d, x, y) sets local d to x*y mod p; @mullazy(d, x, y)
;; leaves it unreduced (< 2^63); @fold(d) fully reduces any d < 2^64 - 2^61; @addmod(d, x, y) and
;; @submod(d, x, y) work on reduced operands. x and y name locals; every function using a macro
;; declares `@locals` (the scratch locals $_x $_y $_ll $_mid).
;;
;; Multiplication: a, b < 2^61 are split into 32-bit halves (the high halves are < 2^29):
;;   a*b = hh*2^64 + mid*2^32 + ll,   mid = al*bh + ah*bl < 2^62
;; and since 2^61 = 1 (mod p):
;;   hh*2^64           = hh*8                                   (< 2^61)
;;   mid*2^32          = (mid >> 29) + ((mid & (2^29-1)) << 32)  (< 2^33, < 2^61)
;;   ll                = (ll >> 61) + (ll & p)
;; The sum is < 2^63, then folded once more and conditionally reduced.
;; Loop skeleton used by the element-wise kernels: pointers advance 8 bytes per element.
(module
  (memory (export "memory") 129)

  (global $P i64 (i64.const 0x1FFFFFFFFFFFFFFF))

  ;; Scalar multiplication for control code (vectors use the kernels below).
  (func (export "mulmod") (param $a i64) (param $b i64) (result i64)
    (local $r i64) @locals
    @mulmod($r, $a, $b)
    (local.get $r))

  ;; o[i] = a[i] + b[i]
  (func (export "add") (param $a i32) (param $b i32) (param $o i32) (param $n i32)
    (local $end i32) (local $x i64) (local $y i64) (local $r i64)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $l
        (local.set $x (i64.load (local.get $a)))
        (local.set $y (i64.load (local.get $b)))
        @addmod($r, $x, $y)
        (i64.store (local.get $o) (local.get $r))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get $a) (local.get $end))))))

  ;; o[i] = a[i] - b[i]
  (func (export "sub") (param $a i32) (param $b i32) (param $o i32) (param $n i32)
    (local $end i32) (local $x i64) (local $y i64) (local $r i64)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $l
        (local.set $x (i64.load (local.get $a)))
        (local.set $y (i64.load (local.get $b)))
        @submod($r, $x, $y)
        (i64.store (local.get $o) (local.get $r))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get $a) (local.get $end))))))

  ;; o[i] = a[i] * b[i]: two elements per iteration in SIMD lanes, the odd last one in scalar code
  (func (export "mul") (param $a i32) (param $b i32) (param $o i32) (param $n i32)
    (local $end i32) (local $end2 i32) (local $x i64) (local $y i64) (local $r i64)
    (local $vx v128) (local $vy v128) (local $vr v128) @locals @vlocals
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (local.set $end2 (i32.add (local.get $a) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3))))
    (block $done2
      (br_if $done2 (i32.ge_u (local.get $a) (local.get $end2)))
      (loop $l2
        (local.set $vx (v128.load (local.get $a)))
        (local.set $vy (v128.load (local.get $b)))
        @vmulmod($vr, $vx, $vy)
        (v128.store (local.get $o) (local.get $vr))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br_if $l2 (i32.lt_u (local.get $a) (local.get $end2)))))
    (if (i32.lt_u (local.get $a) (local.get $end))
      (then
        (local.set $x (i64.load (local.get $a)))
        (local.set $y (i64.load (local.get $b)))
        @mulmod($r, $x, $y)
        (i64.store (local.get $o) (local.get $r)))))

  ;; o[i] = a[i] * b[i] + c[i]   (one reduction: the lazy product < 2^63 plus c < 2^61 fits);
  ;; two elements per iteration in SIMD lanes, the odd last one in scalar code
  (func (export "muladd") (param $a i32) (param $b i32) (param $c i32) (param $o i32) (param $n i32)
    (local $end i32) (local $end2 i32) (local $x i64) (local $y i64) (local $r i64)
    (local $vx v128) (local $vy v128) (local $vr v128) @locals @vlocals
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (local.set $end2 (i32.add (local.get $a) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3))))
    (block $done2
      (br_if $done2 (i32.ge_u (local.get $a) (local.get $end2)))
      (loop $l2
        (local.set $vx (v128.load (local.get $a)))
        (local.set $vy (v128.load (local.get $b)))
        @vmullazy($vr, $vx, $vy)
        (local.set $vr (i64x2.add (local.get $vr) (v128.load (local.get $c))))
        @vfold($vr)
        (v128.store (local.get $o) (local.get $vr))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br_if $l2 (i32.lt_u (local.get $a) (local.get $end2)))))
    (if (i32.lt_u (local.get $a) (local.get $end))
      (then
        (local.set $x (i64.load (local.get $a)))
        (local.set $y (i64.load (local.get $b)))
        @mullazy($r, $x, $y)
        (local.set $r (i64.add (local.get $r) (i64.load (local.get $c))))
        @fold($r)
        (i64.store (local.get $o) (local.get $r)))))

  ;; o[i] = a[i] * b[i] - c[i]   (adds p - c, which is < 2^61 + 1)
  (func (export "mulsub") (param $a i32) (param $b i32) (param $c i32) (param $o i32) (param $n i32)
    (local $end i32) (local $x i64) (local $y i64) (local $r i64) @locals
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $l
        (local.set $x (i64.load (local.get $a)))
        (local.set $y (i64.load (local.get $b)))
        @mullazy($r, $x, $y)
        (local.set $r (i64.add (local.get $r) (i64.sub (global.get $P) (i64.load (local.get $c)))))
        @fold($r)
        (i64.store (local.get $o) (local.get $r))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 8)))
        (local.set $c (i32.add (local.get $c) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get $a) (local.get $end))))))

  ;; o[i] = k * a[i] + c[i]   (axpy; with c == o it accumulates)
  (func (export "axpy") (param $a i32) (param $k i64) (param $c i32) (param $o i32) (param $n i32)
    (local $end i32) (local $x i64) (local $r i64) @locals
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $l
        (local.set $x (i64.load (local.get $a)))
        @mullazy($r, $x, $k)
        (local.set $r (i64.add (local.get $r) (i64.load (local.get $c))))
        @fold($r)
        (i64.store (local.get $o) (local.get $r))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $c (i32.add (local.get $c) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get $a) (local.get $end))))))

  ;; o[i] = k * a[i] + c   (affine map with public constants)
  (func (export "affine") (param $a i32) (param $k i64) (param $c i64) (param $o i32) (param $n i32)
    (local $end i32) (local $x i64) (local $r i64) @locals
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $l
        (local.set $x (i64.load (local.get $a)))
        @mullazy($r, $x, $k)
        (local.set $r (i64.add (local.get $r) (local.get $c)))
        @fold($r)
        (i64.store (local.get $o) (local.get $r))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get $a) (local.get $end))))))

  ;; returns acc + sum_i a[i] * b[i]. Reduced products (< 2^61) are summed lazily and the
  ;; accumulator folded every 7 terms, so it never exceeds 8 * 2^61 = 2^64.
  (func (export "dot") (param $a i32) (param $b i32) (param $n i32) (param $acc i64) (result i64)
    (local $end i32) (local $x i64) (local $y i64) (local $r i64) (local $s i64) (local $k i32) @locals
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $l
        (local.set $x (i64.load (local.get $a)))
        (local.set $y (i64.load (local.get $b)))
        @mulmod($r, $x, $y)
        (local.set $s (i64.add (local.get $s) (local.get $r)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (if (i32.eq (local.get $k) (i32.const 7))
          (then @fold($s) (local.set $k (i32.const 0))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get $a) (local.get $end)))))
    @fold($s)
    @addmod($r, $s, $acc)
    (local.get $r))

  ;; returns acc + sum_i a[i]
  (func (export "sum") (param $a i32) (param $n i32) (param $acc i64) (result i64)
    (local $end i32) (local $s i64) (local $r i64) (local $k i32)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $l
        (local.set $s (i64.add (local.get $s) (i64.load (local.get $a))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (if (i32.eq (local.get $k) (i32.const 7))
          (then @fold($s) (local.set $k (i32.const 0))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get $a) (local.get $end)))))
    @fold($s)
    @addmod($r, $s, $acc)
    (local.get $r))

  ;; Horner fold across the vector: for i in 0..n: acc = acc * rho + a[i]. Returns acc.
  ;; Used by the batched random-linear-combination checks. One chain is bound by the multiplier's
  ;; latency, so whole quads run as four interleaved chains with the multiplier rho^4 (chain q takes
  ;; the elements i = 4j + q; the incoming acc starts chain 3) and are joined as
  ;; c0·rho^3 + c1·rho^2 + c2·rho + c3, which is exactly the sequential fold; the rest one at a time.
  (func (export "horner") (param $a i32) (param $n i32) (param $rho i64) (param $acc i64) (result i64)
    (local $end i32) (local $end4 i32) (local $r2 i64) (local $r3 i64) (local $r4 i64)
    (local $c0 i64) (local $c1 i64) (local $c2 i64) (local $x i64) @locals
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (local.set $end4 (i32.add (local.get $a) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 3))))
    (block $done4
      (br_if $done4 (i32.ge_u (local.get $a) (local.get $end4)))
      @mulmod($r2, $rho, $rho)
      @mulmod($r3, $r2, $rho)
      @mulmod($r4, $r2, $r2)
      (loop $l4
        @mullazy($c0, $c0, $r4)
        (local.set $c0 (i64.add (local.get $c0) (i64.load (local.get $a))))
        @fold($c0)
        @mullazy($c1, $c1, $r4)
        (local.set $c1 (i64.add (local.get $c1) (i64.load offset=8 (local.get $a))))
        @fold($c1)
        @mullazy($c2, $c2, $r4)
        (local.set $c2 (i64.add (local.get $c2) (i64.load offset=16 (local.get $a))))
        @fold($c2)
        @mullazy($acc, $acc, $r4)
        (local.set $acc (i64.add (local.get $acc) (i64.load offset=24 (local.get $a))))
        @fold($acc)
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (br_if $l4 (i32.lt_u (local.get $a) (local.get $end4))))
      @mulpart($x, $c0, $r3)
      (local.set $acc (i64.add (local.get $acc) (local.get $x)))
      @mulpart($x, $c1, $r2)
      (local.set $acc (i64.add (local.get $acc) (local.get $x)))
      @mulpart($x, $c2, $rho)
      (local.set $acc (i64.add (local.get $acc) (local.get $x)))
      @fold($acc))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $l
        @mullazy($acc, $acc, $rho)
        (local.set $acc (i64.add (local.get $acc) (i64.load (local.get $a))))
        @fold($acc)
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get $a) (local.get $end)))))
    (local.get $acc))

  ;; Shamir share generation by Horner's rule. `coef` holds deg+1 columns of `n` elements, column j
  ;; at coef + j*stride bytes (column 0 = the secrets): o[i] = sum_j coef_j[i] * x^j.
  ;; For x < 8 (parties 1..7) acc*x + c < 8p fits in a u64, so one multiply and one fold per step.
  (func (export "polyeval") (param $coef i32) (param $stride i32) (param $deg i32) (param $x i64)
                            (param $o i32) (param $n i32)
    (local $i i32) (local $j i32) (local $acc i64) (local $p i32) (local $small i32) @locals
    (local.set $small (i64.lt_u (local.get $x) (i64.const 8)))
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $l
        (local.set $p (i32.add (local.get $coef)
                               (i32.add (i32.mul (local.get $deg) (local.get $stride))
                                        (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $acc (i64.load (local.get $p)))
        (local.set $j (local.get $deg))
        (block $hdone
          (br_if $hdone (i32.eqz (local.get $j)))
          (loop $h
            (local.set $p (i32.sub (local.get $p) (local.get $stride)))
            (if (local.get $small)
              (then (local.set $acc (i64.mul (local.get $acc) (local.get $x))))
              (else @mullazy($acc, $acc, $x)))
            (local.set $acc (i64.add (local.get $acc) (i64.load (local.get $p))))
            @fold($acc)
            (local.set $j (i32.sub (local.get $j) (i32.const 1)))
            (br_if $h (local.get $j))))
        (i64.store (i32.add (local.get $o) (i32.shl (local.get $i) (i32.const 3))) (local.get $acc))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get $n))))))

  ;; Linear combination of k columns: o[i] = sum_j lam[j] * col_j[i], column j at cols + j*stride.
  ;; `lam` points at k u64 coefficients. Lagrange reconstruction and Vandermonde extraction.
  (func (export "lincomb") (param $cols i32) (param $stride i32) (param $k i32) (param $lam i32)
                           (param $o i32) (param $n i32)
    (local $i i32) (local $j i32) (local $s i64) (local $r i64) (local $x i64) (local $y i64)
    (local $p i32) (local $q i32) (local $cnt i32) @locals
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $l
        (local.set $s (i64.const 0))
        (local.set $cnt (i32.const 0))
        (local.set $p (i32.add (local.get $cols) (i32.shl (local.get $i) (i32.const 3))))
        (local.set $q (local.get $lam))
        (local.set $j (i32.const 0))
        (loop $c
          (local.set $x (i64.load (local.get $p)))
          (local.set $y (i64.load (local.get $q)))
          @mulmod($r, $x, $y)
          (local.set $s (i64.add (local.get $s) (local.get $r)))
          (local.set $cnt (i32.add (local.get $cnt) (i32.const 1)))
          (if (i32.eq (local.get $cnt) (i32.const 7))
            (then @fold($s) (local.set $cnt (i32.const 0))))
          (local.set $p (i32.add (local.get $p) (local.get $stride)))
          (local.set $q (i32.add (local.get $q) (i32.const 8)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $c (i32.lt_u (local.get $j) (local.get $k))))
        @fold($s)
        (i64.store (i32.add (local.get $o) (i32.shl (local.get $i) (i32.const 3))) (local.get $s))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get $n))))))

  ;; Linear combinations of exactly 3 and 5 columns with the coefficients in registers (openings from
  ;; t+1 = 3 shares, kings and dealers with n = 5): no inner loop, two elements per iteration in SIMD
  ;; lanes, one full reduction per element; an odd last element in scalar code.
  ;; Column j at cols + j*stride; o[i] = sum_j lam_j * col_j[i].
  (func (export "lincomb3") (param $cols i32) (param $stride i32) (param $l0 i64) (param $l1 i64)
                            (param $l2 i64) (param $o i32) (param $n i32)
    (local $end i32) (local $end2 i32) (local $x i64) (local $s i64) (local $r i64) (local $s2 i32)
    (local $h0 v128) (local $w0 v128) (local $h1 v128) (local $w1 v128) (local $h2 v128) (local $w2 v128)
    (local $vx v128) (local $vs v128) (local $vr v128) @locals @vlocals
    (local.set $s2 (i32.shl (local.get $stride) (i32.const 1)))
    (local.set $end (i32.add (local.get $cols) (i32.shl (local.get $n) (i32.const 3))))
    (local.set $end2 (i32.add (local.get $cols) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3))))
    @vprep($h0, $w0, $l0) @vprep($h1, $w1, $l1) @vprep($h2, $w2, $l2)
    (block $done2
      (br_if $done2 (i32.ge_u (local.get $cols) (local.get $end2)))
      (loop $l2
        (local.set $vx (v128.load (local.get $cols)))
        @vmulpartk($vs, $vx, $h0, $w0)
        (local.set $vx (v128.load (i32.add (local.get $cols) (local.get $stride))))
        @vmulpartk($vr, $vx, $h1, $w1)
        (local.set $vs (i64x2.add (local.get $vs) (local.get $vr)))
        (local.set $vx (v128.load (i32.add (local.get $cols) (local.get $s2))))
        @vmulpartk($vr, $vx, $h2, $w2)
        (local.set $vs (i64x2.add (local.get $vs) (local.get $vr)))
        @vfold($vs)
        (v128.store (local.get $o) (local.get $vs))
        (local.set $cols (i32.add (local.get $cols) (i32.const 16)))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br_if $l2 (i32.lt_u (local.get $cols) (local.get $end2)))))
    (if (i32.lt_u (local.get $cols) (local.get $end))
      (then
        (local.set $x (i64.load (local.get $cols)))
        @mulpart($s, $x, $l0)
        (local.set $x (i64.load (i32.add (local.get $cols) (local.get $stride))))
        @mulpart($r, $x, $l1)
        (local.set $s (i64.add (local.get $s) (local.get $r)))
        (local.set $x (i64.load (i32.add (local.get $cols) (local.get $s2))))
        @mulpart($r, $x, $l2)
        (local.set $s (i64.add (local.get $s) (local.get $r)))
        @fold($s)
        (i64.store (local.get $o) (local.get $s)))))

  (func (export "lincomb5") (param $cols i32) (param $stride i32) (param $l0 i64) (param $l1 i64)
                            (param $l2 i64) (param $l3 i64) (param $l4 i64) (param $o i32) (param $n i32)
    (local $end i32) (local $end2 i32) (local $x i64) (local $s i64) (local $r i64) (local $p i32)
    (local $h0 v128) (local $w0 v128) (local $h1 v128) (local $w1 v128) (local $h2 v128) (local $w2 v128)
    (local $h3 v128) (local $w3 v128) (local $h4 v128) (local $w4 v128)
    (local $vx v128) (local $vs v128) (local $vr v128) @locals @vlocals
    (local.set $end (i32.add (local.get $cols) (i32.shl (local.get $n) (i32.const 3))))
    (local.set $end2 (i32.add (local.get $cols) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3))))
    @vprep($h0, $w0, $l0) @vprep($h1, $w1, $l1) @vprep($h2, $w2, $l2) @vprep($h3, $w3, $l3) @vprep($h4, $w4, $l4)
    (block $done2
      (br_if $done2 (i32.ge_u (local.get $cols) (local.get $end2)))
      (loop $l2
        (local.set $vx (v128.load (local.get $cols)))
        @vmulpartk($vs, $vx, $h0, $w0)
        (local.set $p (i32.add (local.get $cols) (local.get $stride)))
        (local.set $vx (v128.load (local.get $p)))
        @vmulpartk($vr, $vx, $h1, $w1)
        (local.set $vs (i64x2.add (local.get $vs) (local.get $vr)))
        (local.set $p (i32.add (local.get $p) (local.get $stride)))
        (local.set $vx (v128.load (local.get $p)))
        @vmulpartk($vr, $vx, $h2, $w2)
        (local.set $vs (i64x2.add (local.get $vs) (local.get $vr)))
        (local.set $p (i32.add (local.get $p) (local.get $stride)))
        (local.set $vx (v128.load (local.get $p)))
        @vmulpartk($vr, $vx, $h3, $w3)
        (local.set $vs (i64x2.add (local.get $vs) (local.get $vr)))
        (local.set $p (i32.add (local.get $p) (local.get $stride)))
        (local.set $vx (v128.load (local.get $p)))
        @vmulpartk($vr, $vx, $h4, $w4)
        (local.set $vs (i64x2.add (local.get $vs) (local.get $vr)))
        @vfold($vs)
        (v128.store (local.get $o) (local.get $vs))
        (local.set $cols (i32.add (local.get $cols) (i32.const 16)))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br_if $l2 (i32.lt_u (local.get $cols) (local.get $end2)))))
    (if (i32.lt_u (local.get $cols) (local.get $end))
      (then
        (local.set $x (i64.load (local.get $cols)))
        @mulpart($s, $x, $l0)
        (local.set $p (i32.add (local.get $cols) (local.get $stride)))
        (local.set $x (i64.load (local.get $p)))
        @mulpart($r, $x, $l1)
        (local.set $s (i64.add (local.get $s) (local.get $r)))
        (local.set $p (i32.add (local.get $p) (local.get $stride)))
        (local.set $x (i64.load (local.get $p)))
        @mulpart($r, $x, $l2)
        (local.set $s (i64.add (local.get $s) (local.get $r)))
        (local.set $p (i32.add (local.get $p) (local.get $stride)))
        (local.set $x (i64.load (local.get $p)))
        @mulpart($r, $x, $l3)
        (local.set $s (i64.add (local.get $s) (local.get $r)))
        (local.set $p (i32.add (local.get $p) (local.get $stride)))
        (local.set $x (i64.load (local.get $p)))
        @mulpart($r, $x, $l4)
        (local.set $s (i64.add (local.get $s) (local.get $r)))
        @fold($s)
        (i64.store (local.get $o) (local.get $s)))))

  ;; o[i] = a[i]^(2^k)  (k squarings; square roots use k = 59 since (p+1)/4 = 2^59)
  ;; A chain of squarings is bound by the multiplier's latency, so four elements are squared side
  ;; by side (two independent SIMD chains of two lanes each); the remaining n mod 4 one at a time.
  (func (export "pow2k") (param $a i32) (param $k i32) (param $o i32) (param $n i32)
    (local $end i32) (local $end4 i32) (local $v i64) (local $va v128) (local $vb v128)
    (local $j i32) @locals @vlocals
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (local.set $end4 (i32.add (local.get $a) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 3))))
    (block $done4
      (br_if $done4 (i32.ge_u (local.get $a) (local.get $end4)))
      (loop $l4
        (local.set $va (v128.load (local.get $a)))
        (local.set $vb (v128.load offset=16 (local.get $a)))
        (local.set $j (local.get $k))
        (block $sdone4
          (br_if $sdone4 (i32.eqz (local.get $j)))
          (loop $s4
            @vmulmod($va, $va, $va)
            @vmulmod($vb, $vb, $vb)
            (local.set $j (i32.sub (local.get $j) (i32.const 1)))
            (br_if $s4 (local.get $j))))
        (v128.store (local.get $o) (local.get $va))
        (v128.store offset=16 (local.get $o) (local.get $vb))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $o (i32.add (local.get $o) (i32.const 32)))
        (br_if $l4 (i32.lt_u (local.get $a) (local.get $end4)))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $l
        (local.set $v (i64.load (local.get $a)))
        (local.set $j (local.get $k))
        (block $sdone
          (br_if $sdone (i32.eqz (local.get $j)))
          (loop $s
            @mulmod($v, $v, $v)
            (local.set $j (i32.sub (local.get $j) (i32.const 1)))
            (br_if $s (local.get $j))))
        (i64.store (local.get $o) (local.get $v))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get $a) (local.get $end))))))

  ;; Index of the first element >= p, or -1 if all are field elements (validates untrusted input).
  (func (export "firstinvalid") (param $a i32) (param $n i32) (result i32)
    (local $i i32)
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $l
        (if (i64.ge_u (i64.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 3)))) (global.get $P))
          (then (return (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
    (i32.const -1))

  ;; Batch inversion prefix pass: o[i] = a[0] * ... * a[i] (caller inverts the last, then walks back).
  (func (export "prefixprod") (param $a i32) (param $o i32) (param $n i32)
    (local $end i32) (local $acc i64) (local $x i64) @locals
    (local.set $acc (i64.const 1))
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $l
        (local.set $x (i64.load (local.get $a)))
        @mulmod($acc, $acc, $x)
        (i64.store (local.get $o) (local.get $acc))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get $a) (local.get $end))))))

  ;; Vandermonde extraction with small points: for each element i and row q < rows (rows <= 4),
  ;; o_q[i] = sum_j (j+1)^q * col_j[i], columns at cols + j*stride, row q at o + q*ostride.
  ;; Powers are built by multiplying by the small point j+1 <= 7 (one multiply and one fold: the
  ;; product of a reduced value and a number below 8 is below 2^64), not by full products; the four
  ;; row sums stay in registers (reduced values, folded every 7 columns).
  (func (export "vandermonde") (param $cols i32) (param $stride i32) (param $k i32) (param $rows i32)
                               (param $o i32) (param $ostride i32) (param $n i32)
    (local $i i32) (local $j i32) (local $y i64) (local $beta i64) (local $p i32)
    (local $a0 i64) (local $a1 i64) (local $a2 i64) (local $a3 i64)
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $l
        (local.set $a0 (i64.const 0)) (local.set $a1 (i64.const 0))
        (local.set $a2 (i64.const 0)) (local.set $a3 (i64.const 0))
        (local.set $p (i32.add (local.get $cols) (i32.shl (local.get $i) (i32.const 3))))
        (local.set $j (i32.const 0))
        (loop $c
          (local.set $y (i64.load (local.get $p)))
          (local.set $beta (i64.extend_i32_u (i32.add (local.get $j) (i32.const 1))))
          (local.set $a0 (i64.add (local.get $a0) (local.get $y)))
          (local.set $y (i64.mul (local.get $y) (local.get $beta)))
          @fold($y)
          (local.set $a1 (i64.add (local.get $a1) (local.get $y)))
          (local.set $y (i64.mul (local.get $y) (local.get $beta)))
          @fold($y)
          (local.set $a2 (i64.add (local.get $a2) (local.get $y)))
          (local.set $y (i64.mul (local.get $y) (local.get $beta)))
          @fold($y)
          (local.set $a3 (i64.add (local.get $a3) (local.get $y)))
          (local.set $p (i32.add (local.get $p) (local.get $stride)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $c (i32.lt_u (local.get $j) (local.get $k))))
        @fold($a0) @fold($a1) @fold($a2) @fold($a3)
        (local.set $p (i32.add (local.get $o) (i32.shl (local.get $i) (i32.const 3))))
        (i64.store (local.get $p) (local.get $a0))
        (if (i32.gt_u (local.get $rows) (i32.const 1))
          (then (i64.store (i32.add (local.get $p) (local.get $ostride)) (local.get $a1))))
        (if (i32.gt_u (local.get $rows) (i32.const 2))
          (then (i64.store (i32.add (local.get $p) (i32.shl (local.get $ostride) (i32.const 1))) (local.get $a2))))
        (if (i32.gt_u (local.get $rows) (i32.const 3))
          (then (i64.store (i32.add (local.get $p) (i32.mul (local.get $ostride) (i32.const 3))) (local.get $a3))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get $n))))))

  ;; Two Horner folds with two points over two vectors at once (the MAC check): with st pointing at
  ;; four u64 accumulators [w1, u1, w2, u2], for every i: w_k = w_k*rho_k + z[i], u_k = u_k*rho_k + rz[i].
  ;; Four independent dependency chains in one loop keep the multiplier busy.
  (func (export "horner4") (param $z i32) (param $rz i32) (param $n i32) (param $rho1 i64) (param $rho2 i64)
                           (param $st i32)
    (local $end i32) (local $w1 i64) (local $u1 i64) (local $w2 i64) (local $u2 i64) (local $x i64) (local $y i64) @locals
    (local.set $w1 (i64.load (local.get $st)))
    (local.set $u1 (i64.load offset=8 (local.get $st)))
    (local.set $w2 (i64.load offset=16 (local.get $st)))
    (local.set $u2 (i64.load offset=24 (local.get $st)))
    (local.set $end (i32.add (local.get $z) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $z) (local.get $end)))
      (loop $l
        (local.set $x (i64.load (local.get $z)))
        (local.set $y (i64.load (local.get $rz)))
        @mullazy($w1, $w1, $rho1)
        (local.set $w1 (i64.add (local.get $w1) (local.get $x)))
        @fold($w1)
        @mullazy($u1, $u1, $rho1)
        (local.set $u1 (i64.add (local.get $u1) (local.get $y)))
        @fold($u1)
        @mullazy($w2, $w2, $rho2)
        (local.set $w2 (i64.add (local.get $w2) (local.get $x)))
        @fold($w2)
        @mullazy($u2, $u2, $rho2)
        (local.set $u2 (i64.add (local.get $u2) (local.get $y)))
        @fold($u2)
        (local.set $z (i32.add (local.get $z) (i32.const 8)))
        (local.set $rz (i32.add (local.get $rz) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get $z) (local.get $end)))))
    (i64.store (local.get $st) (local.get $w1))
    (i64.store offset=8 (local.get $st) (local.get $u1))
    (i64.store offset=16 (local.get $st) (local.get $w2))
    (i64.store offset=24 (local.get $st) (local.get $u2)))

  ;; Share generation at the points x = 1..npts (npts <= 7) in one pass: for each element the
  ;; deg+1 coefficients (columns at coef + j*stride) are read once per point from L1 and folded by
  ;; Horner with the small multiplier x; share q goes to o + q*ostride.
  (func (export "sharesmall") (param $coef i32) (param $stride i32) (param $deg i32) (param $npts i32)
                              (param $o i32) (param $ostride i32) (param $n i32)
    (local $i i32) (local $j i32) (local $q i32) (local $acc i64) (local $x i64) (local $top i32) (local $p i32)
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $l
        (local.set $top (i32.add (local.get $coef)
                                 (i32.add (i32.mul (local.get $deg) (local.get $stride))
                                          (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $q (i32.const 0))
        (loop $pt
          (local.set $x (i64.extend_i32_u (i32.add (local.get $q) (i32.const 1))))
          (local.set $p (local.get $top))
          (local.set $acc (i64.load (local.get $p)))
          (local.set $j (local.get $deg))
          (block $hdone
            (br_if $hdone (i32.eqz (local.get $j)))
            (loop $h
              (local.set $p (i32.sub (local.get $p) (local.get $stride)))
              (local.set $acc (i64.add (i64.mul (local.get $acc) (local.get $x)) (i64.load (local.get $p))))
              @fold($acc)
              (local.set $j (i32.sub (local.get $j) (i32.const 1)))
              (br_if $h (local.get $j))))
          (i64.store (i32.add (i32.add (local.get $o) (i32.mul (local.get $q) (local.get $ostride)))
                              (i32.shl (local.get $i) (i32.const 3)))
                     (local.get $acc))
          (local.set $q (i32.add (local.get $q) (i32.const 1)))
          (br_if $pt (i32.lt_u (local.get $q) (local.get $npts))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get $n))))))
)
