;; Hostile: pointer 0xffff_fff0 plus length 0x20 wraps around u32: a host
;; adding them in 32 bits would see a tiny, in-bounds end.
(module
  (memory (export "memory") 1)
  (func (export "abi_version") (result i32) (i32.const 4))
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "free") (param i32 i32))
  (func (export "call") (param i32 i32) (result i64)
    (i64.const 0xffff_fff0_0000_0020)))
