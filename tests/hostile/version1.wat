;; Built for ABI version 1, before algorithms described themselves. It also
;; lacks `call`, which a module of another version might have renamed: the
;; host must report the version, not a missing export.
(module
  (memory (export "memory") 1)
  (func (export "abi_version") (result i32) (i32.const 1))
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "free") (param i32 i32)))
