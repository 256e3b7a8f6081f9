/* Fills python_offsets.h's table with offsetof() against the installed CPython headers, with
 * Py_BUILD_CORE so the internal ones (the interpreter, thread and frame states) are visible.
 * Compiled only when CMake found those headers; python_frames.cpp checks version_hex against the
 * Py_Version of the process it reads and refuses any other version. */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <internal/pycore_code.h>
#include <internal/pycore_dict.h>
#include <internal/pycore_frame.h>
#include <internal/pycore_interp.h>
#include <internal/pycore_moduleobject.h>
#include <internal/pycore_runtime.h>

#include <stddef.h>
#include <string.h>

#include "python_offsets.h"

#if PY_VERSION_HEX < 0x030B0000 || PY_VERSION_HEX >= 0x030C0000
#error "python_offsets.c reads the structs of CPython 3.11 (frames moved again in 3.12)"
#endif

const struct forklore_python_offsets forklore_python311_offsets = {
    .version_hex = PY_VERSION_HEX,
    .runtime_interpreters_head = offsetof(_PyRuntimeState, interpreters.head),
    .interpreter_next = offsetof(PyInterpreterState, next),
    .interpreter_threads_head = offsetof(PyInterpreterState, threads.head),
    .interpreter_modules = offsetof(PyInterpreterState, modules),
    .interpreter_sysdict = offsetof(PyInterpreterState, sysdict),
    .thread_next = offsetof(PyThreadState, next),
    .thread_cframe = offsetof(PyThreadState, cframe),
    .thread_thread_id = offsetof(PyThreadState, thread_id),
    .thread_native_thread_id = offsetof(PyThreadState, native_thread_id),
    .cframe_current_frame = offsetof(_PyCFrame, current_frame),
    .frame_code = offsetof(_PyInterpreterFrame, f_code),
    .frame_previous = offsetof(_PyInterpreterFrame, previous),
    .frame_prev_instr = offsetof(_PyInterpreterFrame, prev_instr),
    .frame_owner = offsetof(_PyInterpreterFrame, owner),
    .code_filename = offsetof(PyCodeObject, co_filename),
    .code_name = offsetof(PyCodeObject, co_name),
    .code_qualname = offsetof(PyCodeObject, co_qualname),
    .code_firstlineno = offsetof(PyCodeObject, co_firstlineno),
    .code_linetable = offsetof(PyCodeObject, co_linetable),
    .code_adaptive = offsetof(PyCodeObject, co_code_adaptive),
    .code_unit_size = sizeof(_Py_CODEUNIT),
    .object_type = offsetof(PyObject, ob_type),
    .type_name = offsetof(PyTypeObject, tp_name),
    .type_flags = offsetof(PyTypeObject, tp_flags),
    .heap_type_cached_keys = offsetof(PyHeapTypeObject, ht_cached_keys),
    .managed_dict_flag = Py_TPFLAGS_MANAGED_DICT,
    /* pycore_object.h: _PyObject_ManagedDictPointer is ((PyObject **)obj)-3 and
     * _PyObject_ValuesPointer ((PyDictValues **)obj)-4, in front of the GC header. */
    .managed_dict_slot = -3,
    .managed_values_slot = -4,
    .var_size = offsetof(PyVarObject, ob_size),
    .unicode_length = offsetof(PyASCIIObject, length),
    .unicode_state = offsetof(PyASCIIObject, state),
    .unicode_ascii_data = sizeof(PyASCIIObject),
    .unicode_compact_data = sizeof(PyCompactUnicodeObject),
    .bytes_data = offsetof(PyBytesObject, ob_sval),
    .long_digits = offsetof(PyLongObject, ob_digit),
    .long_digit_bits = PyLong_SHIFT,
    .long_digit_size = sizeof(digit),
    .module_dict = offsetof(PyModuleObject, md_dict),
    .dict_keys = offsetof(PyDictObject, ma_keys),
    .dict_values = offsetof(PyDictObject, ma_values),
    .keys_log2_index_bytes = offsetof(PyDictKeysObject, dk_log2_index_bytes),
    .keys_kind = offsetof(PyDictKeysObject, dk_kind),
    .keys_nentries = offsetof(PyDictKeysObject, dk_nentries),
    .keys_indices = offsetof(PyDictKeysObject, dk_indices),
    .general_entry_size = sizeof(PyDictKeyEntry),
    .general_entry_key = offsetof(PyDictKeyEntry, me_key),
    .general_entry_value = offsetof(PyDictKeyEntry, me_value),
    .unicode_entry_size = sizeof(PyDictUnicodeEntry),
    .unicode_entry_key = offsetof(PyDictUnicodeEntry, me_key),
    .unicode_entry_value = offsetof(PyDictUnicodeEntry, me_value),
    .keys_kind_general = DICT_KEYS_GENERAL,
    .set_mask = offsetof(PySetObject, mask),
    .set_table = offsetof(PySetObject, table),
    .set_entry_size = sizeof(setentry),
    .set_entry_key = offsetof(setentry, key),
    .weakref_object = offsetof(PyWeakReference, wr_object),
    .list_items = offsetof(PyListObject, ob_item),
};

/* Each field set alone in a zeroed object, the 32-bit word at `state` read back: its mask. */
static uint32_t state_word(const PyASCIIObject* object) {
    uint32_t word = 0;
    memcpy(&word, (const char*)object + offsetof(PyASCIIObject, state), sizeof word);
    return word;
}

struct forklore_python_unicode_bits forklore_python311_unicode_bits(void) {
    struct forklore_python_unicode_bits bits = {0, 0, 0, 0};
    PyASCIIObject object;
    memset(&object, 0, sizeof object);
    object.state.kind = 7;
    bits.kind_mask = state_word(&object);
    while (bits.kind_mask && !((bits.kind_mask >> bits.kind_shift) & 1u))
        ++bits.kind_shift;
    memset(&object, 0, sizeof object);
    object.state.compact = 1;
    bits.compact = state_word(&object);
    memset(&object, 0, sizeof object);
    object.state.ascii = 1;
    bits.ascii = state_word(&object);
    return bits;
}
