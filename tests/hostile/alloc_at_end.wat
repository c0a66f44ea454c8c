;; Hostile: `alloc` returns 65536, one past the end of the 64 KiB memory: an
;; off-by-one case (even a 1-byte request does not fit).
(module
  (memory (export "memory") 1)
  (func (export "abi_version") (result i32) (i32.const 4))
  (func (export "alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "free") (param i32 i32))
  (func (export "call") (param i32 i32) (result i64) (i64.const 0)))
