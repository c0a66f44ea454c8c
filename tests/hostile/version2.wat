;; Hostile (or just newer): speaks ABI version 2. It also lacks `call`, which a
;; version-2 module might have renamed: the host must report the version, not
;; a missing export.
(module
  (memory (export "memory") 1)
  (func (export "abi_version") (result i32) (i32.const 2))
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "free") (param i32 i32)))
