;; Hostile: declares a table of 4 billion elements (32 GiB of host memory).
(module
  (memory (export "memory") 1)
  (table 4000000000 funcref)
  (func (export "abi_version") (result i32) (i32.const 4))
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "free") (param i32 i32))
  (func (export "call") (param i32 i32) (result i64) (i64.const 0)))
