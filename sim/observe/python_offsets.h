/* Where CPython keeps what python_frames.cpp reads from another process's memory: offsets of
 * fields of the interpreter's own structs, taken by offsetof() in python_offsets.c against the
 * installed CPython headers (Debian's libpython3.11-dev), so they are the offsets of the exact
 * interpreter this machine runs, not numbers copied from a blog post or another build.
 *
 * Plain C, shared by the C file that fills it and the C++ reader. Built only when the headers
 * are found (sim/CMakeLists.txt); without them FORKLORE_HAVE_PYTHON_OFFSETS is 0 and Python
 * frames are simply unavailable (the record says so). */
#ifndef FORKLORE_PYTHON_OFFSETS_H
#define FORKLORE_PYTHON_OFFSETS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct forklore_python_offsets {
    uint64_t version_hex; /* PY_VERSION_HEX of the headers: the reader refuses any other */

    /* _PyRuntimeState, PyInterpreterState, PyThreadState, _PyCFrame */
    uint64_t runtime_interpreters_head;
    uint64_t interpreter_next;
    uint64_t interpreter_threads_head;
    uint64_t interpreter_modules; /* sys.modules */
    uint64_t interpreter_sysdict; /* the sys module's dict */
    uint64_t thread_next;
    uint64_t thread_cframe;
    uint64_t thread_thread_id;        /* the ident threading uses (pthread_self()) */
    uint64_t thread_native_thread_id; /* gettid() as the thread's PID namespace sees it */
    uint64_t cframe_current_frame;

    /* _PyInterpreterFrame and PyCodeObject */
    uint64_t frame_code;
    uint64_t frame_previous;
    uint64_t frame_prev_instr;
    uint64_t frame_owner;
    uint64_t code_filename;
    uint64_t code_name;
    uint64_t code_qualname;
    uint64_t code_firstlineno;
    uint64_t code_linetable;
    uint64_t code_adaptive; /* the bytecode, inline in the code object */
    uint64_t code_unit_size;

    /* objects: type, unicode, bytes, int, module, dict, heap type */
    uint64_t object_type;
    uint64_t type_name; /* tp_name, a char* */
    uint64_t type_flags;
    uint64_t heap_type_cached_keys; /* ht_cached_keys: the shared keys of managed dicts */
    uint64_t managed_dict_flag;     /* Py_TPFLAGS_MANAGED_DICT */
    int64_t managed_dict_slot;      /* in pointers before the object: its dict */
    int64_t managed_values_slot;    /* in pointers before the object: its values */
    uint64_t var_size;              /* ob_size */
    uint64_t unicode_length;
    uint64_t unicode_state;
    uint64_t unicode_ascii_data;   /* sizeof(PyASCIIObject) */
    uint64_t unicode_compact_data; /* sizeof(PyCompactUnicodeObject) */
    uint64_t bytes_data;
    uint64_t long_digits;
    uint64_t long_digit_bits;
    uint64_t long_digit_size;
    uint64_t module_dict;
    uint64_t dict_keys;
    uint64_t dict_values;
    uint64_t keys_log2_index_bytes;
    uint64_t keys_kind;
    uint64_t keys_nentries;
    uint64_t keys_indices;
    uint64_t general_entry_size; /* PyDictKeyEntry: hash, key, value */
    uint64_t general_entry_key;
    uint64_t general_entry_value;
    uint64_t unicode_entry_size; /* PyDictUnicodeEntry: key, value */
    uint64_t unicode_entry_key;
    uint64_t unicode_entry_value;
    uint64_t keys_kind_general;
    uint64_t set_mask; /* PySetObject: table of mask + 1 entries */
    uint64_t set_table;
    uint64_t set_entry_size;
    uint64_t set_entry_key;
    uint64_t weakref_object; /* PyWeakReference.wr_object: the referent, or None when dead */
    uint64_t list_items;     /* PyListObject.ob_item: its array of ob_size pointers */
};

/* The unicode state bits (a bit field, where offsetof() cannot reach), found by setting them in
 * a local PyASCIIObject: masks within the 32-bit word at unicode_state. */
struct forklore_python_unicode_bits {
    uint32_t kind_mask;
    uint32_t kind_shift;
    uint32_t compact;
    uint32_t ascii;
};

extern const struct forklore_python_offsets forklore_python311_offsets;
struct forklore_python_unicode_bits forklore_python311_unicode_bits(void);

#ifdef __cplusplus
}
#endif

#endif
