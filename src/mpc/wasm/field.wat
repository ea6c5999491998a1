;; Vector kernels over the Mersenne prime field p = 2^61 - 1.
;;
;; Elements are u64 little-endian, always fully reduced (0 <= x < p). Every kernel takes byte
;; offsets into this module's memory and an element count; the TypeScript wrapper
;; (src/mpc/field.ts) copies columns into fixed scratch slots chunk by chunk, so memory never grows.
;;
;; Multiplication: a, b < 2^61 are split into 32-bit halves (the high halves are < 2^29):
;;   a*b = hh*2^64 + mid*2^32 + ll,   mid = al*bh + ah*bl < 2^62
;; and since 2^61 = 1 (mod p):
;;   hh*2^64           = hh*8                                   (< 2^61)
;;   mid*2^32          = (mid >> 29) + ((mid & (2^29-1)) << 32)  (< 2^33, < 2^61)
;;   ll                = (ll >> 61) + (ll & p)
;; The sum is < 2^63, then folded once more and conditionally reduced.
(module
  (memory (export "memory") 129)

  (global $P i64 (i64.const 0x1FFFFFFFFFFFFFFF))

  ;; Full reduction of s < 2^64 - 2^61 (any sum of a few reduced terms).
  (func $fold (param $s i64) (result i64)
    (local $r i64)
    (local.set $r (i64.add (i64.and (local.get $s) (global.get $P))
                           (i64.shr_u (local.get $s) (i64.const 61))))
    (select (i64.sub (local.get $r) (global.get $P)) (local.get $r)
            (i64.ge_u (local.get $r) (global.get $P))))

  (func $mulmod (export "mulmod") (param $a i64) (param $b i64) (result i64)
    (local $al i64) (local $ah i64) (local $bl i64) (local $bh i64)
    (local $ll i64) (local $mid i64)
    (local.set $al (i64.and (local.get $a) (i64.const 0xFFFFFFFF)))
    (local.set $ah (i64.shr_u (local.get $a) (i64.const 32)))
    (local.set $bl (i64.and (local.get $b) (i64.const 0xFFFFFFFF)))
    (local.set $bh (i64.shr_u (local.get $b) (i64.const 32)))
    (local.set $ll (i64.mul (local.get $al) (local.get $bl)))
    (local.set $mid (i64.add (i64.mul (local.get $al) (local.get $bh))
                             (i64.mul (local.get $ah) (local.get $bl))))
    (call $fold
      (i64.add
        (i64.add
          (i64.shl (i64.mul (local.get $ah) (local.get $bh)) (i64.const 3))
          (i64.add (i64.shr_u (local.get $mid) (i64.const 29))
                   (i64.shl (i64.and (local.get $mid) (i64.const 0x1FFFFFFF)) (i64.const 32))))
        (i64.add (i64.shr_u (local.get $ll) (i64.const 61))
                 (i64.and (local.get $ll) (global.get $P))))))

  (func $addmod (param $a i64) (param $b i64) (result i64)
    (local $s i64)
    (local.set $s (i64.add (local.get $a) (local.get $b)))
    (select (i64.sub (local.get $s) (global.get $P)) (local.get $s)
            (i64.ge_u (local.get $s) (global.get $P))))

  (func $submod (param $a i64) (param $b i64) (result i64)
    (select (i64.sub (local.get $a) (local.get $b))
            (i64.add (i64.sub (local.get $a) (local.get $b)) (global.get $P))
            (i64.ge_u (local.get $a) (local.get $b))))

  ;; o[i] = a[i] + b[i]
  (func (export "add") (param $a i32) (param $b i32) (param $o i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $l
        (i64.store (local.get $o) (call $addmod (i64.load (local.get $a)) (i64.load (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get $a) (local.get $end))))))

  ;; o[i] = a[i] - b[i]
  (func (export "sub") (param $a i32) (param $b i32) (param $o i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $l
        (i64.store (local.get $o) (call $submod (i64.load (local.get $a)) (i64.load (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get $a) (local.get $end))))))

  ;; o[i] = a[i] * b[i]
  (func (export "mul") (param $a i32) (param $b i32) (param $o i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $l
        (i64.store (local.get $o) (call $mulmod (i64.load (local.get $a)) (i64.load (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get $a) (local.get $end))))))

  ;; o[i] = a[i] * b[i] + c[i]
  (func (export "muladd") (param $a i32) (param $b i32) (param $c i32) (param $o i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $l
        (i64.store (local.get $o)
          (call $addmod (call $mulmod (i64.load (local.get $a)) (i64.load (local.get $b)))
                        (i64.load (local.get $c))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 8)))
        (local.set $c (i32.add (local.get $c) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get $a) (local.get $end))))))

  ;; o[i] = a[i] * b[i] - c[i]
  (func (export "mulsub") (param $a i32) (param $b i32) (param $c i32) (param $o i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $l
        (i64.store (local.get $o)
          (call $submod (call $mulmod (i64.load (local.get $a)) (i64.load (local.get $b)))
                        (i64.load (local.get $c))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 8)))
        (local.set $c (i32.add (local.get $c) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get $a) (local.get $end))))))

  ;; o[i] = k * a[i] + c[i]   (axpy; with c == o it accumulates)
  (func (export "axpy") (param $a i32) (param $k i64) (param $c i32) (param $o i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $l
        (i64.store (local.get $o)
          (call $addmod (call $mulmod (i64.load (local.get $a)) (local.get $k)) (i64.load (local.get $c))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $c (i32.add (local.get $c) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get $a) (local.get $end))))))

  ;; o[i] = k * a[i] + c   (affine map with public constants)
  (func (export "affine") (param $a i32) (param $k i64) (param $c i64) (param $o i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $l
        (i64.store (local.get $o)
          (call $addmod (call $mulmod (i64.load (local.get $a)) (local.get $k)) (local.get $c)))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get $a) (local.get $end))))))

  ;; returns acc + sum_i a[i] * b[i]. Products are accumulated lazily: eight reduced products
  ;; (< 2^61 each) fit in a u64, so the accumulator is folded every 8 terms.
  (func (export "dot") (param $a i32) (param $b i32) (param $n i32) (param $acc i64) (result i64)
    (local $end i32) (local $s i64) (local $k i32)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $l
        (local.set $s (i64.add (local.get $s)
          (call $mulmod (i64.load (local.get $a)) (i64.load (local.get $b)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (if (i32.eq (local.get $k) (i32.const 7))
          (then (local.set $s (call $fold (local.get $s))) (local.set $k (i32.const 0))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get $a) (local.get $end)))))
    (call $addmod (call $fold (local.get $s)) (local.get $acc)))

  ;; returns acc + sum_i a[i]
  (func (export "sum") (param $a i32) (param $n i32) (param $acc i64) (result i64)
    (local $end i32) (local $s i64) (local $k i32)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $l
        (local.set $s (i64.add (local.get $s) (i64.load (local.get $a))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (if (i32.eq (local.get $k) (i32.const 7))
          (then (local.set $s (call $fold (local.get $s))) (local.set $k (i32.const 0))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get $a) (local.get $end)))))
    (call $addmod (call $fold (local.get $s)) (local.get $acc)))

  ;; Horner evaluation across the vector: for i in 0..n: acc = acc * rho + a[i]. Returns acc.
  ;; Used by the batched random-linear-combination checks (sum of rho^(n-1-i) * a[i]).
  (func (export "horner") (param $a i32) (param $n i32) (param $rho i64) (param $acc i64) (result i64)
    (local $end i32)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $l
        (local.set $acc (call $addmod (call $mulmod (local.get $acc) (local.get $rho)) (i64.load (local.get $a))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get $a) (local.get $end)))))
    (local.get $acc))

  ;; Shamir share generation by Horner's rule. `coef` holds deg+1 columns of `n` elements each,
  ;; column j at coef + j*stride bytes (column 0 = the secrets). For every element:
  ;; o[i] = sum_j coef_j[i] * x^j.
  (func (export "polyeval") (param $coef i32) (param $stride i32) (param $deg i32) (param $x i64)
                            (param $o i32) (param $n i32)
    (local $i i32) (local $j i32) (local $acc i64) (local $p i32)
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
            (local.set $acc (call $addmod (call $mulmod (local.get $acc) (local.get $x)) (i64.load (local.get $p))))
            (local.set $j (i32.sub (local.get $j) (i32.const 1)))
            (br_if $h (local.get $j))))
        (i64.store (i32.add (local.get $o) (i32.shl (local.get $i) (i32.const 3))) (local.get $acc))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get $n))))))

  ;; Linear combination of k columns: o[i] = sum_j lam[j] * col_j[i], column j at cols + j*stride.
  ;; `lam` points at k u64 coefficients. Used for Lagrange reconstruction and Vandermonde extraction.
  (func (export "lincomb") (param $cols i32) (param $stride i32) (param $k i32) (param $lam i32)
                           (param $o i32) (param $n i32)
    (local $i i32) (local $j i32) (local $s i64) (local $p i32) (local $q i32)
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $l
        (local.set $s (i64.const 0))
        (local.set $p (i32.add (local.get $cols) (i32.shl (local.get $i) (i32.const 3))))
        (local.set $q (local.get $lam))
        (local.set $j (i32.const 0))
        (loop $c
          (local.set $s (call $addmod (local.get $s)
                                      (call $mulmod (i64.load (local.get $p)) (i64.load (local.get $q)))))
          (local.set $p (i32.add (local.get $p) (local.get $stride)))
          (local.set $q (i32.add (local.get $q) (i32.const 8)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $c (i32.lt_u (local.get $j) (local.get $k))))
        (i64.store (i32.add (local.get $o) (i32.shl (local.get $i) (i32.const 3))) (local.get $s))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get $n))))))

  ;; o[i] = a[i]^(2^k)  (k squarings; square roots use k = 59 since (p+1)/4 = 2^59)
  (func (export "pow2k") (param $a i32) (param $k i32) (param $o i32) (param $n i32)
    (local $end i32) (local $v i64) (local $j i32)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $l
        (local.set $v (i64.load (local.get $a)))
        (local.set $j (local.get $k))
        (block $sdone
          (br_if $sdone (i32.eqz (local.get $j)))
          (loop $s
            (local.set $v (call $mulmod (local.get $v) (local.get $v)))
            (local.set $j (i32.sub (local.get $j) (i32.const 1)))
            (br_if $s (local.get $j))))
        (i64.store (local.get $o) (local.get $v))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get $a) (local.get $end))))))

  ;; Turns raw random u64 words into field elements: keeps the low 61 bits. Returns how many
  ;; results equal p (2^61 - 1, not a field element) so the caller redraws them (rejection sampling).
  (func (export "mask61") (param $a i32) (param $n i32) (result i32)
    (local $end i32) (local $v i64) (local $bad i32)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $l
        (local.set $v (i64.and (i64.load (local.get $a)) (global.get $P)))
        (i64.store (local.get $a) (local.get $v))
        (local.set $bad (i32.add (local.get $bad) (i64.eq (local.get $v) (global.get $P))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get $a) (local.get $end)))))
    (local.get $bad))

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
    (local $end i32) (local $acc i64)
    (local.set $acc (i64.const 1))
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (loop $l
        (local.set $acc (call $mulmod (local.get $acc) (i64.load (local.get $a))))
        (i64.store (local.get $o) (local.get $acc))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get $a) (local.get $end))))))
)
