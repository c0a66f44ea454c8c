;; Hostile: a 2 MiB reply (ptr 0, len 0x200000) inside a 4 MiB memory: in
;; bounds, but larger than a host's `max_reply_bytes`.
(module
  (memory (export "memory") 64)
  (func (export "abi_version") (result i32) (i32.const 4))
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "free") (param i32 i32))
  (func (export "call") (param i32 i32) (result i64) (i64.const 0x20_0000)))
