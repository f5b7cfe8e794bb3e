/* Optional compiled shortcuts for the verification path (issue 15).
 *
 * The Python modules stay the reference: every function here either gives exactly what the
 * Python code gives, or declines (returns None / -1) and the Python code decides, names the
 * error and raises.  tests/test_speedups.py compares the two on generated and hostile input.
 * Built by scripts/build_speedups.py (run by scripts/setup.sh); without it vaxcert runs in pure
 * Python (e.g. from a wheel).
 *
 *   b45decode(text)    Base45 text -> bytes, or None (anything but canonical Base45).
 *   cbor_loads(data)   (item,) for CBOR made of definite-length maps and arrays, text and byte
 *                      strings, integers of 64 bits, true, false and null, nested at most 8
 *                      deep, map keys of text, bytes or integers, no duplicate key and nothing
 *                      after the item: what cbor2.loads gives for it.  None for anything else.
 *   plain_state(obj)   vaxcert.stages.cbor._plain_state(obj) (0, 1 or 2), or -1 when nested
 *                      deeper than 100 (the Python function then answers).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>

/* ------------------------------------------------------------------------------ Base45 */

static const char B45_ALPHABET[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
static signed char b45_values[256];

static PyObject *
b45decode(PyObject *module, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        Py_RETURN_NONE;
    }
#if PY_VERSION_HEX < 0x030C0000 /* strings are always ready from 3.12 on (and the call is deprecated) */
    if (PyUnicode_READY(text) < 0) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
#endif
    if (!PyUnicode_IS_ASCII(text)) {
        Py_RETURN_NONE;
    }
    Py_ssize_t size = PyUnicode_GET_LENGTH(text);
    const unsigned char *chars = PyUnicode_1BYTE_DATA(text);
    Py_ssize_t groups = size / 3, rest = size % 3;
    if (rest == 1) {
        Py_RETURN_NONE;
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, groups * 2 + (rest ? 1 : 0));
    if (out == NULL) {
        return NULL;
    }
    unsigned char *bytes = (unsigned char *)PyBytes_AS_STRING(out);
    for (Py_ssize_t i = 0; i < groups; i++) {
        int c0 = b45_values[chars[3 * i]], c1 = b45_values[chars[3 * i + 1]], c2 = b45_values[chars[3 * i + 2]];
        if (c0 < 0 || c1 < 0 || c2 < 0) {
            goto decline;
        }
        long word = c0 + 45L * c1 + 2025L * c2;
        if (word > 0xFFFF) {
            goto decline;
        }
        bytes[2 * i] = (unsigned char)(word >> 8);
        bytes[2 * i + 1] = (unsigned char)(word & 0xFF);
    }
    if (rest) {
        int c0 = b45_values[chars[3 * groups]], c1 = b45_values[chars[3 * groups + 1]];
        if (c0 < 0 || c1 < 0 || c0 + 45 * c1 > 0xFF) {
            goto decline;
        }
        bytes[2 * groups] = (unsigned char)(c0 + 45 * c1);
    }
    return out;
decline:
    Py_DECREF(out);
    Py_RETURN_NONE;
}

/* -------------------------------------------------------------------------------- CBOR */

#define CBOR_MAX_DEPTH 8

typedef struct {
    const unsigned char *pos;
    const unsigned char *end;
} Reader;

/* The head of the next item: major type, and its argument.  0, or -1 to decline. */
static int
read_head(Reader *r, int *major, uint64_t *argument)
{
    if (r->pos >= r->end) {
        return -1;
    }
    unsigned char initial = *r->pos++;
    int info = initial & 0x1F, length;
    *major = initial >> 5;
    if (info < 24) {
        *argument = (uint64_t)info;
        return 0;
    }
    switch (info) {
    case 24: length = 1; break;
    case 25: length = 2; break;
    case 26: length = 4; break;
    case 27: length = 8; break;
    default: return -1; /* indefinite lengths, reserved values */
    }
    if (r->end - r->pos < length) {
        return -1;
    }
    uint64_t value = 0;
    for (int i = 0; i < length; i++) {
        value = value << 8 | r->pos[i];
    }
    r->pos += length;
    *argument = value;
    return 0;
}

/* A new reference to the next item, or NULL to decline (no exception left set). */
static PyObject *
read_item(Reader *r, int depth)
{
    int major;
    uint64_t argument;
    unsigned char initial = r->pos < r->end ? *r->pos : 0;
    if (read_head(r, &major, &argument) < 0) {
        return NULL;
    }
    Py_ssize_t left = r->end - r->pos;
    switch (major) {
    case 0:
        return PyLong_FromUnsignedLongLong(argument);
    case 1:
        if (argument > (uint64_t)INT64_MAX) {
            return NULL;
        }
        return PyLong_FromLongLong(-1 - (long long)argument);
    case 2:
    case 3: {
        if (argument > (uint64_t)left) {
            return NULL;
        }
        const char *start = (const char *)r->pos;
        r->pos += argument;
        if (major == 2) {
            return PyBytes_FromStringAndSize(start, (Py_ssize_t)argument);
        }
        PyObject *text = PyUnicode_DecodeUTF8(start, (Py_ssize_t)argument, "strict");
        if (text == NULL) {
            PyErr_Clear();
        }
        return text;
    }
    case 4: {
        if (depth >= CBOR_MAX_DEPTH || argument > (uint64_t)left) {
            return NULL;
        }
        PyObject *list = PyList_New((Py_ssize_t)argument);
        if (list == NULL) {
            PyErr_Clear();
            return NULL;
        }
        for (Py_ssize_t i = 0; i < (Py_ssize_t)argument; i++) {
            PyObject *item = read_item(r, depth + 1);
            if (item == NULL) {
                Py_DECREF(list);
                return NULL;
            }
            PyList_SET_ITEM(list, i, item);
        }
        return list;
    }
    case 5: {
        if (depth >= CBOR_MAX_DEPTH || argument > (uint64_t)left / 2) {
            return NULL;
        }
        PyObject *map = PyDict_New();
        if (map == NULL) {
            PyErr_Clear();
            return NULL;
        }
        for (uint64_t i = 0; i < argument; i++) {
            if (r->pos >= r->end || (*r->pos >> 5) > 3) { /* keys: integers, bytes, text */
                Py_DECREF(map);
                return NULL;
            }
            PyObject *key = read_item(r, depth + 1);
            if (key == NULL) {
                Py_DECREF(map);
                return NULL;
            }
            PyObject *value = read_item(r, depth + 1);
            int stored = -1;
            if (value != NULL && PyDict_Contains(map, key) == 0) {
                stored = PyDict_SetItem(map, key, value);
            }
            Py_DECREF(key);
            Py_XDECREF(value);
            if (stored < 0) { /* a duplicate key, or no value */
                PyErr_Clear();
                Py_DECREF(map);
                return NULL;
            }
        }
        return map;
    }
    case 7: /* only the one-byte false, true and null; floats, undefined and other simple values decline */
        switch (initial) {
        case 0xF4: Py_RETURN_FALSE;
        case 0xF5: Py_RETURN_TRUE;
        case 0xF6: Py_RETURN_NONE;
        default: return NULL;
        }
    default:
        return NULL; /* tags */
    }
}

static PyObject *
cbor_loads(PyObject *module, PyObject *data)
{
    if (!PyBytes_CheckExact(data)) {
        Py_RETURN_NONE;
    }
    Reader reader = {(const unsigned char *)PyBytes_AS_STRING(data),
                     (const unsigned char *)PyBytes_AS_STRING(data) + PyBytes_GET_SIZE(data)};
    PyObject *item = read_item(&reader, 0);
    if (item == NULL) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    if (reader.pos != reader.end) { /* trailing bytes: cbor2 decides */
        Py_DECREF(item);
        Py_RETURN_NONE;
    }
    PyObject *wrapped = PyTuple_Pack(1, item);
    Py_DECREF(item);
    return wrapped;
}

/* --------------------------------------------------------------------------- plain JSON */

#define NOT_PLAIN 0
#define PLAIN 1
#define TIDY 2
#define ASK_PYTHON -1
#define STATE_MAX_DEPTH 100

/* str.strip() is the string itself: no whitespace at either end. */
static int
is_stripped(PyObject *text)
{
    Py_ssize_t size = PyUnicode_GET_LENGTH(text);
    if (size == 0) {
        return 1;
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    return !Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, 0)) &&
           !Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, size - 1));
}

static int state_of(PyObject *obj, int depth);

/* The state of a member or item value, or NOT_PLAIN / ASK_PYTHON to stop at. */
static int
value_state(PyObject *value, int state, int in_map, int depth)
{
    if (PyUnicode_CheckExact(value)) {
        return is_stripped(value) ? state : PLAIN;
    }
    if (PyLong_CheckExact(value) || PyBool_Check(value)) {
        return state;
    }
    if (value == Py_None) {
        return in_map ? PLAIN : state;
    }
    int sub = state_of(value, depth + 1);
    return sub < state ? sub : state;
}

static int
state_of(PyObject *obj, int depth)
{
    if (depth > STATE_MAX_DEPTH) {
        return ASK_PYTHON;
    }
    int state = TIDY;
    if (PyDict_CheckExact(obj)) {
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        while (PyDict_Next(obj, &pos, &key, &value)) {
            if (!PyUnicode_CheckExact(key)) {
                return NOT_PLAIN;
            }
            state = value_state(value, state, 1, depth);
            if (state <= NOT_PLAIN) {
                return state;
            }
        }
        return state;
    }
    if (PyList_CheckExact(obj)) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(obj); i++) {
            state = value_state(PyList_GET_ITEM(obj, i), state, 0, depth);
            if (state <= NOT_PLAIN) {
                return state;
            }
        }
        return state;
    }
    if (PyFloat_CheckExact(obj)) {
        return isfinite(PyFloat_AS_DOUBLE(obj)) ? PLAIN : NOT_PLAIN;
    }
    if (PyUnicode_CheckExact(obj)) {
        return is_stripped(obj) ? TIDY : PLAIN;
    }
    if (PyLong_CheckExact(obj) || PyBool_Check(obj) || obj == Py_None) {
        return TIDY;
    }
    return NOT_PLAIN;
}

static PyObject *
plain_state(PyObject *module, PyObject *obj)
{
    return PyLong_FromLong(state_of(obj, 0));
}

/* ------------------------------------------------------------------------------ module */

static PyMethodDef methods[] = {
    {"b45decode", b45decode, METH_O, "Base45 text to bytes, or None (the Python decoder then explains)."},
    {"cbor_loads", cbor_loads, METH_O, "(item,) for the plain CBOR subset, or None (cbor2 then decides)."},
    {"plain_state", plain_state, METH_O, "vaxcert.stages.cbor._plain_state, or -1 (Python then answers)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "vaxcert.stages._speedups", "Optional compiled shortcuts (see _speedups.c).", -1,
    methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    memset(b45_values, -1, sizeof b45_values);
    for (int i = 0; B45_ALPHABET[i]; i++) {
        b45_values[(unsigned char)B45_ALPHABET[i]] = (signed char)i;
    }
    return PyModule_Create(&module_def);
}
