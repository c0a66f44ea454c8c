;; Hostile: declares a 4 GiB initial memory (65536 pages), above any cap the
;; host sets; refused at instantiation with SandboxError::Memory.
(module
  (memory (export "memory") 65536)
  (func (export "abi_version") (result i32) (i32.const 4))
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "free") (param i32 i32))
  (func (export "call") (param i32 i32) (result i64) (i64.const 0)))
