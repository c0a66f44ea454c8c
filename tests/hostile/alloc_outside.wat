;; Hostile: `alloc` hands the host a pointer (2 GiB) outside the 64 KiB memory;
;; the host must not write the request there.
(module
  (memory (export "memory") 1)
  (func (export "abi_version") (result i32) (i32.const 4))
  (func (export "alloc") (param i32) (result i32) (i32.const 0x8000_0000))
  (func (export "free") (param i32 i32))
  (func (export "call") (param i32 i32) (result i64) (i64.const 0)))
