;; Hostile: the reply is 16 bytes of junk from a data segment; it is in bounds
;; but is no postcard `Reply` (the first varint is an absurd variant index).
(module
  (memory (export "memory") 1)
  (data (i32.const 0) "\ff\ff\ff\ff\ff\ff\ff\ff\ff\ff\13\37\de\ad\be\ef")
  (func (export "abi_version") (result i32) (i32.const 4))
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "free") (param i32 i32))
  (func (export "call") (param i32 i32) (result i64) (i64.const 16)))
