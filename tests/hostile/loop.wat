;; Hostile: `call` spins forever. The host must stop it at its CPU deadline
;; (epoch interruption) and report SandboxError::Deadline.
(module
  (memory (export "memory") 1)
  (func (export "abi_version") (result i32) (i32.const 4))
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "free") (param i32 i32))
  (func (export "call") (param i32 i32) (result i64)
    (loop $forever (br $forever))
    (i64.const 0)))
