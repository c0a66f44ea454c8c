;; Hostile: the reply pointer (1 MiB) lies past the end of the 64 KiB memory.
;; Packed reply = ptr << 32 | len = 0x100000 << 32 | 16.
(module
  (memory (export "memory") 1)
  (func (export "abi_version") (result i32) (i32.const 4))
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "free") (param i32 i32))
  (func (export "call") (param i32 i32) (result i64)
    (i64.const 0x0010_0000_0000_0010)))
