/* Optional compiled shortcuts for the verification and issuing paths (issue 15).
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
 *
 * and, on the issuing path and for the results of both:
 *
 *   b45encode(data)    bytes -> Base45 text (vaxcert.stages.base45.encode_python), or None for
 *                      anything but exact bytes.
 *   cbor_dumps(obj)    what cbor2.dumps gives for plain JSON made of exact dicts with text keys,
 *                      lists, text, bytes, 64-bit integers, True, False and None, nested at most
 *                      16 deep; None for anything else (floats among them): cbor2 then encodes.
 *   der_to_raw(der)    the 64-byte r||s of a strictly DER-encoded ECDSA P-256 signature (what
 *                      cryptography's decode_dss_signature and two to_bytes(32) give), or None.
 *   tidy_kind(payload) what vaxcert.dcc.lenient.tidy_kind answers ("v", "t", "r" or None) for an
 *                      exact dict, or False (Python then answers).
 *   es256_inputs(protected, payload, signature)
 *                      (DER signature, Sig_structure) for checking an ES256 COSE_Sign1, as
 *                      vaxcert.stages.cose._der_signature and sig_structure write them, or None.
 *   cwt_claims(data)   (iss, iat, exp, payload, tidy) of the usual CWT claims, as
 *                      vaxcert.stages.cwt.decode_python reads them, or None.
 *   hc1_unwrap(text, max_size)
 *                      (Base45 text, zlib data, COSE bytes, protected, payload, signature) of
 *                      usual HC1 text, as vaxcert.stages.hc1.unwrap_python unwraps it, or None.
 *                      Built only with the system's zlib (scripts/build_speedups.py: inflating
 *                      gives the same bytes with any zlib; nothing here compresses).
 *   make_frozen(cls, members, *values)
 *                      a new instance of a slotted class (a frozen dataclass) with each member
 *                      descriptor set to its value: what object.__new__(cls) and each
 *                      member.__set__(obj, value) give, in one call (vaxcert.stages.records).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <math.h>
#include <stdint.h>

/* ------------------------------------------------------------------------------ Base45 */

static const char B45_ALPHABET[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
static signed char b45_values[256];

/* Decode canonical Base45 into out (room for size / 3 * 2 + 1 bytes); its length, or -1. */
static Py_ssize_t
b45_decode_into(const unsigned char *chars, Py_ssize_t size, unsigned char *bytes)
{
    Py_ssize_t groups = size / 3, rest = size % 3;
    if (rest == 1) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < groups; i++) {
        int c0 = b45_values[chars[3 * i]], c1 = b45_values[chars[3 * i + 1]], c2 = b45_values[chars[3 * i + 2]];
        if (c0 < 0 || c1 < 0 || c2 < 0) {
            return -1;
        }
        long word = c0 + 45L * c1 + 2025L * c2;
        if (word > 0xFFFF) {
            return -1;
        }
        bytes[2 * i] = (unsigned char)(word >> 8);
        bytes[2 * i + 1] = (unsigned char)(word & 0xFF);
    }
    if (rest) {
        int c0 = b45_values[chars[3 * groups]], c1 = b45_values[chars[3 * groups + 1]];
        if (c0 < 0 || c1 < 0 || c0 + 45 * c1 > 0xFF) {
            return -1;
        }
        bytes[2 * groups] = (unsigned char)(c0 + 45 * c1);
    }
    return groups * 2 + (rest ? 1 : 0);
}

/* The ASCII characters of an exact str, or NULL (not a str, not ASCII). */
static const unsigned char *
ascii_chars(PyObject *text, Py_ssize_t *size)
{
    if (!PyUnicode_Check(text)) {
        return NULL;
    }
#if PY_VERSION_HEX < 0x030C0000 /* strings are always ready from 3.12 on (and the call is deprecated) */
    if (PyUnicode_READY(text) < 0) {
        PyErr_Clear();
        return NULL;
    }
#endif
    if (!PyUnicode_IS_ASCII(text)) {
        return NULL;
    }
    *size = PyUnicode_GET_LENGTH(text);
    return PyUnicode_1BYTE_DATA(text);
}

static PyObject *
b45decode(PyObject *module, PyObject *text)
{
    Py_ssize_t size;
    const unsigned char *chars = ascii_chars(text, &size);
    if (chars == NULL || size % 3 == 1) {
        Py_RETURN_NONE;
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, size / 3 * 2 + (size % 3 ? 1 : 0));
    if (out == NULL) {
        return NULL;
    }
    if (b45_decode_into(chars, size, (unsigned char *)PyBytes_AS_STRING(out)) < 0) {
        Py_DECREF(out);
        Py_RETURN_NONE;
    }
    return out;
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

/* The DCC's member names, made once: a text of 1-3 bytes equal to one of them is given as that
 * (interned) string, so the payload's keys are neither allocated nor hashed again.  A fixed
 * list: nothing read from a certificate is kept. */
static const char *const DCC_KEYS[] = {
    "v", "t", "r", "ver", "nam", "fn", "fnt", "gn", "gnt", "dob", "tg", "vp", "mp", "ma", "dn", "sd", "dt",
    "co", "is", "ci", "tt", "nm", "sc", "tr", "tc", "fr", "df", "du", "dr", NULL,
};
#define KEY_SLOTS 128
static PyObject *key_strings[KEY_SLOTS];
static uint32_t key_codes[KEY_SLOTS];

static inline uint32_t
key_code(const unsigned char *text, Py_ssize_t size)
{
    uint32_t code = (uint32_t)size << 24;
    for (Py_ssize_t i = 0; i < size; i++) {
        code |= (uint32_t)text[i] << (8 * i);
    }
    return code;
}

static inline unsigned
key_slot(uint32_t code)
{
    return (code * 2654435761u) >> 25; /* 7 bits: KEY_SLOTS */
}

/* A new reference to the known string of these 1-3 bytes, or NULL (no exception set). */
static PyObject *
known_key(const unsigned char *text, Py_ssize_t size)
{
    uint32_t code = key_code(text, size);
    for (unsigned slot = key_slot(code); key_strings[slot] != NULL; slot = (slot + 1) % KEY_SLOTS) {
        if (key_codes[slot] == code) {
            Py_INCREF(key_strings[slot]);
            return key_strings[slot];
        }
    }
    return NULL;
}

static int
init_known_keys(void)
{
    for (int i = 0; DCC_KEYS[i] != NULL; i++) {
        PyObject *text = PyUnicode_InternFromString(DCC_KEYS[i]);
        if (text == NULL) {
            return -1;
        }
        uint32_t code = key_code((const unsigned char *)DCC_KEYS[i], (Py_ssize_t)strlen(DCC_KEYS[i]));
        unsigned slot = key_slot(code);
        while (key_strings[slot] != NULL) {
            slot = (slot + 1) % KEY_SLOTS;
        }
        key_strings[slot] = text;
        key_codes[slot] = code;
    }
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
        if (argument >= 1 && argument <= 3) {
            PyObject *known = known_key((const unsigned char *)start, (Py_ssize_t)argument);
            if (known != NULL) {
                return known;
            }
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
            if (value != NULL) {
                Py_ssize_t before = PyDict_GET_SIZE(map);
                stored = PyDict_SetItem(map, key, value);
                if (stored == 0 && PyDict_GET_SIZE(map) == before) { /* the key was there already */
                    stored = -1;
                }
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

/* A new reference to the one plain CBOR item that is all of `data` (exact bytes), or NULL to
 * decline, with no exception set (not bytes, not plain, or bytes after the item: cbor2 decides). */
static PyObject *
read_whole(PyObject *data)
{
    if (!PyBytes_CheckExact(data)) {
        return NULL;
    }
    Reader reader = {(const unsigned char *)PyBytes_AS_STRING(data),
                     (const unsigned char *)PyBytes_AS_STRING(data) + PyBytes_GET_SIZE(data)};
    PyObject *item = read_item(&reader, 0);
    if (item == NULL) {
        PyErr_Clear();
        return NULL;
    }
    if (reader.pos != reader.end) {
        Py_DECREF(item);
        return NULL;
    }
    return item;
}

static PyObject *
cbor_loads(PyObject *module, PyObject *data)
{
    PyObject *item = read_whole(data);
    if (item == NULL) {
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


/* ------------------------------------------------------------------------ Base45 encode */

static PyObject *
b45encode(PyObject *module, PyObject *data)
{
    if (!PyBytes_CheckExact(data)) {
        Py_RETURN_NONE;
    }
    Py_ssize_t size = PyBytes_GET_SIZE(data);
    const unsigned char *in = (const unsigned char *)PyBytes_AS_STRING(data);
    PyObject *out = PyUnicode_New(size / 2 * 3 + (size & 1 ? 2 : 0), 127);
    if (out == NULL) {
        return NULL;
    }
    Py_UCS1 *chars = PyUnicode_1BYTE_DATA(out);
    Py_ssize_t pairs = size / 2;
    for (Py_ssize_t i = 0; i < pairs; i++) {
        unsigned int word = (unsigned int)in[2 * i] << 8 | in[2 * i + 1];
        chars[3 * i] = (Py_UCS1)B45_ALPHABET[word % 45];
        word /= 45;
        chars[3 * i + 1] = (Py_UCS1)B45_ALPHABET[word % 45];
        chars[3 * i + 2] = (Py_UCS1)B45_ALPHABET[word / 45];
    }
    if (size & 1) {
        unsigned int last = in[size - 1];
        chars[3 * pairs] = (Py_UCS1)B45_ALPHABET[last % 45];
        chars[3 * pairs + 1] = (Py_UCS1)B45_ALPHABET[last / 45];
    }
    return out;
}

/* --------------------------------------------------------------------------- CBOR encode */

#define CBOR_DUMPS_MAX_DEPTH 16

typedef struct {
    unsigned char *data;
    Py_ssize_t size;
    Py_ssize_t capacity;
    unsigned char inline_buffer[512];
} Writer;

/* Room for n more bytes; 0, or -1 (out of memory: decline). */
static int
w_reserve(Writer *w, Py_ssize_t n)
{
    if (w->size + n <= w->capacity) {
        return 0;
    }
    Py_ssize_t capacity = w->capacity * 2;
    while (capacity < w->size + n) {
        capacity *= 2;
    }
    unsigned char *grown;
    if (w->data == w->inline_buffer) {
        grown = PyMem_Malloc((size_t)capacity);
        if (grown != NULL) {
            memcpy(grown, w->data, (size_t)w->size);
        }
    }
    else {
        grown = PyMem_Realloc(w->data, (size_t)capacity);
    }
    if (grown == NULL) {
        return -1;
    }
    w->data = grown;
    w->capacity = capacity;
    return 0;
}

/* The shortest head for a major type and its argument (as cbor2 writes it) into out (room for 9
 * bytes); its length. */
static Py_ssize_t
put_head(unsigned char *out, int major, uint64_t argument)
{
    unsigned char type = (unsigned char)(major << 5);
    if (argument < 24) {
        out[0] = type | (unsigned char)argument;
        return 1;
    }
    int length = argument <= 0xFF ? 1 : argument <= 0xFFFF ? 2 : argument <= 0xFFFFFFFFULL ? 4 : 8;
    out[0] = type | (length == 1 ? 24 : length == 2 ? 25 : length == 4 ? 26 : 27);
    for (int i = 0; i < length; i++) {
        out[1 + i] = (unsigned char)(argument >> (8 * (length - 1 - i)));
    }
    return 1 + length;
}

static int
w_head(Writer *w, int major, uint64_t argument)
{
    if (w_reserve(w, 9) < 0) {
        return -1;
    }
    w->size += put_head(w->data + w->size, major, argument);
    return 0;
}

static int
w_bytes(Writer *w, int major, const char *data, Py_ssize_t size)
{
    if (w_head(w, major, (uint64_t)size) < 0 || w_reserve(w, size) < 0) {
        return -1;
    }
    memcpy(w->data + w->size, data, (size_t)size);
    w->size += size;
    return 0;
}

/* 0, or -1 to decline (an exception may be set: the caller clears it). */
static int
write_item(Writer *w, PyObject *obj, int depth)
{
    if (PyUnicode_CheckExact(obj)) {
        Py_ssize_t size;
        const char *utf8 = PyUnicode_AsUTF8AndSize(obj, &size);
        return utf8 == NULL ? -1 : w_bytes(w, 3, utf8, size);
    }
    if (PyLong_CheckExact(obj)) {
        int overflow;
        long long value = PyLong_AsLongLongAndOverflow(obj, &overflow);
        if (overflow || (value == -1 && PyErr_Occurred())) {
            return -1;
        }
        return value >= 0 ? w_head(w, 0, (uint64_t)value) : w_head(w, 1, (uint64_t)(-1 - value));
    }
    if (obj == Py_True || obj == Py_False || obj == Py_None) {
        if (w_reserve(w, 1) < 0) {
            return -1;
        }
        w->data[w->size++] = obj == Py_True ? 0xF5 : obj == Py_False ? 0xF4 : 0xF6;
        return 0;
    }
    if (depth >= CBOR_DUMPS_MAX_DEPTH) {
        return -1;
    }
    if (PyDict_CheckExact(obj)) {
        if (w_head(w, 5, (uint64_t)PyDict_GET_SIZE(obj)) < 0) {
            return -1;
        }
        Py_ssize_t pos = 0, seen = 0;
        PyObject *key, *value;
        while (PyDict_Next(obj, &pos, &key, &value)) {
            if (!PyUnicode_CheckExact(key)) {
                return -1;
            }
            seen++;
            if (write_item(w, key, depth + 1) < 0 || write_item(w, value, depth + 1) < 0) {
                return -1;
            }
        }
        return seen == PyDict_GET_SIZE(obj) ? 0 : -1;
    }
    if (PyList_CheckExact(obj)) {
        Py_ssize_t size = PyList_GET_SIZE(obj);
        if (w_head(w, 4, (uint64_t)size) < 0) {
            return -1;
        }
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(obj); i++) {
            if (write_item(w, PyList_GET_ITEM(obj, i), depth + 1) < 0) {
                return -1;
            }
        }
        return PyList_GET_SIZE(obj) == size ? 0 : -1;
    }
    if (PyBytes_CheckExact(obj)) {
        return w_bytes(w, 2, PyBytes_AS_STRING(obj), PyBytes_GET_SIZE(obj));
    }
    return -1; /* floats, tuples, subclasses, anything else: cbor2 decides */
}

static PyObject *
cbor_dumps(PyObject *module, PyObject *obj)
{
    Writer w;
    w.data = w.inline_buffer;
    w.size = 0;
    w.capacity = (Py_ssize_t)sizeof w.inline_buffer;
    PyObject *out = NULL;
    if (write_item(&w, obj, 0) == 0) {
        out = PyBytes_FromStringAndSize((const char *)w.data, w.size);
    }
    if (w.data != w.inline_buffer) {
        PyMem_Free(w.data);
    }
    if (out == NULL) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    return out;
}

/* ----------------------------------------------------------------- ECDSA DER -> r||s */

/* Read one DER INTEGER of a P-256 signature into 32 big-endian bytes; 0, or -1 to decline. */
static int
read_der_integer(const unsigned char **pos, const unsigned char *end, unsigned char *out)
{
    const unsigned char *p = *pos;
    if (end - p < 3 || p[0] != 0x02) {
        return -1;
    }
    Py_ssize_t length = p[1];
    p += 2;
    if (length < 1 || length > 33 || end - p < length) {
        return -1;
    }
    if (p[0] & 0x80) { /* negative */
        return -1;
    }
    if (length > 1 && p[0] == 0 && !(p[1] & 0x80)) { /* not minimal */
        return -1;
    }
    if (length == 33) {
        if (p[0] != 0) {
            return -1;
        }
        p++;
        length--;
    }
    memset(out, 0, 32);
    memcpy(out + 32 - length, p, (size_t)length);
    *pos = p + length;
    return 0;
}

static PyObject *
der_to_raw(PyObject *module, PyObject *der)
{
    if (!PyBytes_CheckExact(der)) {
        Py_RETURN_NONE;
    }
    const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(der);
    const unsigned char *end = p + PyBytes_GET_SIZE(der);
    unsigned char raw[64];
    if (end - p < 2 || p[0] != 0x30 || p[1] >= 0x80 || end - p != 2 + p[1]) {
        Py_RETURN_NONE;
    }
    p += 2;
    if (read_der_integer(&p, end, raw) < 0 || read_der_integer(&p, end, raw + 32) < 0 || p != end) {
        Py_RETURN_NONE;
    }
    return PyBytes_FromStringAndSize((const char *)raw, 64);
}

/* ------------------------------------------------------------- the certificate's type */

/* The member names tidy_kind looks up: the known keys' own strings (init_known_keys made them). */
static PyObject *name_v, *name_t, *name_r, *name_dob, *name_sc, *name_dr, *name_dt, *name_fr, *name_df, *name_du;

static int
init_names(void)
{
    PyObject **slots[] = {&name_v, &name_t, &name_r, &name_dob, &name_sc, &name_dr, &name_dt, &name_fr, &name_df,
                          &name_du};
    const char *texts[] = {"v", "t", "r", "dob", "sc", "dr", "dt", "fr", "df", "du"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        *slots[i] = known_key((const unsigned char *)texts[i], (Py_ssize_t)strlen(texts[i]));
        if (*slots[i] == NULL) { /* a name missing from DCC_KEYS */
            PyErr_Format(PyExc_SystemError, "_speedups: %s is not among the known keys", texts[i]);
            return -1;
        }
    }
    return 0;
}

static inline Py_UCS4
char_at(PyObject *text, Py_ssize_t index)
{
    return PyUnicode_READ_CHAR(text, index);
}

/* lenient._date_shaped: YYYY-MM-DD by shape. */
static int
date_shaped(PyObject *text)
{
    return PyUnicode_GET_LENGTH(text) == 10 && char_at(text, 4) == '-' && char_at(text, 7) == '-';
}

/* lenient._datetime_shaped: RFC 3339 by shape. */
static int
datetime_shaped(PyObject *text)
{
    Py_ssize_t size = PyUnicode_GET_LENGTH(text);
    if (size < 20 || char_at(text, 10) != 'T' || char_at(text, 13) != ':' || char_at(text, 16) != ':') {
        return 0;
    }
    Py_UCS4 sign = char_at(text, size - 6);
    return char_at(text, size - 1) == 'Z' || ((sign == '+' || sign == '-') && char_at(text, size - 3) == ':');
}

/* The shape checks of tidy_kind's entry: 1 when they hold, 0 when not, -1 on an error (a key's
 * own __eq__ can run code: the caller holds references to what it looks at). */
static int
entry_dates_as_written(PyObject *entry, PyObject *kind)
{
    PyObject *datetimes[] = {name_sc, name_dr}, *dates[] = {name_dt, name_fr, name_df, name_du};
    PyObject **names = kind == name_t ? datetimes : kind == name_v ? dates : dates + 1;
    int count = kind == name_t ? 2 : kind == name_v ? 1 : 3;
    for (int i = 0; i < count; i++) {
        PyObject *text = PyDict_GetItemWithError(entry, names[i]);
        if (text == NULL) {
            if (PyErr_Occurred()) {
                return -1;
            }
            continue;
        }
        if (PyUnicode_CheckExact(text) && !(kind == name_t ? datetime_shaped(text) : date_shaped(text))) {
            return 0;
        }
    }
    return 1;
}

/* tidy_kind(payload): what vaxcert.dcc.lenient.tidy_kind answers ("v", "t", "r" or None) for an exact
 * dict, or False for anything else, or when a lookup raised (Python then answers). */
static PyObject *
tidy_kind(PyObject *module, PyObject *payload)
{
    if (!PyDict_CheckExact(payload)) {
        Py_RETURN_FALSE;
    }
    PyObject *found[4] = {NULL, NULL, NULL, NULL}; /* v, t, r, dob: strong references */
    PyObject *names[4] = {name_v, name_t, name_r, name_dob};
    PyObject *answer = Py_None, *entry = NULL;
    for (int i = 0; i < 4; i++) {
        found[i] = PyDict_GetItemWithError(payload, names[i]);
        if (found[i] == NULL && PyErr_Occurred()) {
            answer = Py_False;
            goto done;
        }
        Py_XINCREF(found[i]);
    }
    PyObject *v = found[0] == Py_None ? NULL : found[0], *t = found[1] == Py_None ? NULL : found[1];
    PyObject *r = found[2] == Py_None ? NULL : found[2], *dob = found[3], *kind, *entries;
    if (t == NULL && r == NULL) {
        kind = name_v, entries = v;
    }
    else if (v == NULL && r == NULL) {
        kind = name_t, entries = t;
    }
    else if (v == NULL && t == NULL) {
        kind = name_r, entries = r;
    }
    else {
        goto done;
    }
    if (entries == NULL || !PyList_CheckExact(entries) || PyList_GET_SIZE(entries) != 1) {
        goto done;
    }
    if (dob != NULL && PyUnicode_CheckExact(dob)) {
        Py_ssize_t size = PyUnicode_GET_LENGTH(dob);
        if (!(size == 0 || size == 4 || (size == 7 && char_at(dob, 4) == '-') || date_shaped(dob))) {
            goto done;
        }
    }
    entry = PyList_GET_ITEM(entries, 0);
    Py_INCREF(entry);
    int written = PyDict_CheckExact(entry) ? entry_dates_as_written(entry, kind) : 1;
    answer = written < 0 ? Py_False : written ? kind : Py_None;
done:
    PyErr_Clear();
    Py_XDECREF(entry);
    for (int i = 0; i < 4; i++) {
        Py_XDECREF(found[i]);
    }
    Py_INCREF(answer);
    return answer;
}

/* -------------------------------------------------------------- ES256 verification input */

/* A DER INTEGER of a 32-byte unsigned big-endian number (minimal) into out; its length. */
static Py_ssize_t
der_integer(const unsigned char *value, unsigned char *out)
{
    Py_ssize_t start = 0;
    while (start < 31 && value[start] == 0) {
        start++;
    }
    Py_ssize_t size = 32 - start, pad = value[start] & 0x80 ? 1 : 0;
    out[0] = 0x02;
    out[1] = (unsigned char)(size + pad);
    out[2] = 0;
    memcpy(out + 2 + pad, value + start, (size_t)size);
    return 2 + pad + size;
}

/* es256_inputs(protected, payload, signature): (DER signature, Sig_structure) of an ES256 COSE_Sign1,
 * what cose._der_signature(signature) and cose.sig_structure(protected, payload) give; None unless
 * the three are bytes, the signature is 64 bytes (r||s) and the lengths fit 32 bits. */
static PyObject *
es256_inputs(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyBytes_CheckExact(args[0]) || !PyBytes_CheckExact(args[1]) || !PyBytes_CheckExact(args[2]) ||
        PyBytes_GET_SIZE(args[2]) != 64 || PyBytes_GET_SIZE(args[0]) > 0xFFFFFFFFLL ||
        PyBytes_GET_SIZE(args[1]) > 0xFFFFFFFFLL) {
        Py_RETURN_NONE;
    }
    const unsigned char *raw = (const unsigned char *)PyBytes_AS_STRING(args[2]);
    unsigned char der[72];
    Py_ssize_t r_size = der_integer(raw, der + 2);
    Py_ssize_t s_size = der_integer(raw + 32, der + 2 + r_size);
    der[0] = 0x30;
    der[1] = (unsigned char)(r_size + s_size);
    Py_ssize_t prot_size = PyBytes_GET_SIZE(args[0]), payload_size = PyBytes_GET_SIZE(args[1]);
    unsigned char prot_head[9], payload_head[9];
    Py_ssize_t prot_head_size = put_head(prot_head, 2, (uint64_t)prot_size);
    Py_ssize_t payload_head_size = put_head(payload_head, 2, (uint64_t)payload_size);
    static const unsigned char context[] = "\x84\x6aSignature1";
    Py_ssize_t context_size = (Py_ssize_t)sizeof context - 1;
    PyObject *tbs = PyBytes_FromStringAndSize(
        NULL, context_size + prot_head_size + prot_size + 1 + payload_head_size + payload_size);
    if (tbs == NULL) {
        return NULL;
    }
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(tbs);
    memcpy(out, context, (size_t)context_size);
    out += context_size;
    memcpy(out, prot_head, (size_t)prot_head_size);
    out += prot_head_size;
    memcpy(out, PyBytes_AS_STRING(args[0]), (size_t)prot_size);
    out += prot_size;
    *out++ = 0x40; /* external_aad: h'' */
    memcpy(out, payload_head, (size_t)payload_head_size);
    out += payload_head_size;
    memcpy(out, PyBytes_AS_STRING(args[1]), (size_t)payload_size);
    PyObject *pair = Py_BuildValue("(y#N)", (const char *)der, 2 + r_size + s_size, tbs);
    return pair;
}

/* ---------------------------------------------------------------- CWT claims of a DCC */

/* (iss, iat, exp, payload, tidy) as vaxcert.stages.cwt.decode reads them from the usual claims
 * (plain CBOR, integer times, iss absent or text, -260 a map holding 1, a plain payload), or
 * None: cwt.decode then reads them itself, and names what is wrong. */
static PyObject *
cwt_claims(PyObject *module, PyObject *data)
{
    PyObject *claims = read_whole(data), *out = NULL;
    if (claims == NULL) {
        Py_RETURN_NONE;
    }
    if (!PyDict_CheckExact(claims)) {
        goto decline;
    }
    PyObject *keys[4] = {PyLong_FromLong(1), PyLong_FromLong(6), PyLong_FromLong(4), PyLong_FromLong(-260)};
    PyObject *found[4] = {NULL, NULL, NULL, NULL};
    int failed = 0;
    for (int i = 0; i < 4; i++) { /* small integers: the interpreter's own, never NULL */
        found[i] = PyDict_GetItemWithError(claims, keys[i]);
        Py_DECREF(keys[i]);
        failed |= PyErr_Occurred() != NULL;
    }
    if (failed) {
        goto decline;
    }
    PyObject *issuer = found[0] != NULL ? found[0] : Py_None, *hcert = found[3], *payload = NULL;
    if ((issuer != Py_None && !PyUnicode_CheckExact(issuer)) || found[1] == NULL || !PyLong_CheckExact(found[1]) ||
        found[2] == NULL || !PyLong_CheckExact(found[2]) || hcert == NULL || !PyDict_CheckExact(hcert)) {
        goto decline;
    }
    PyObject *one = PyLong_FromLong(1);
    payload = PyDict_GetItemWithError(hcert, one);
    Py_DECREF(one);
    if (payload == NULL || !PyDict_CheckExact(payload)) {
        goto decline;
    }
    int state = state_of(payload, 0);
    if (state < PLAIN) { /* not plain JSON (converted in Python), or too deep for this walk */
        goto decline;
    }
    out = PyTuple_Pack(5, issuer, found[1], found[2], payload, state == TIDY ? Py_True : Py_False);
decline:
    PyErr_Clear();
    Py_DECREF(claims);
    if (out == NULL) {
        Py_RETURN_NONE;
    }
    return out;
}

/* ------------------------------------------------------------------------ HC1 unwrap */

#ifdef VAXCERT_WITH_ZLIB
#include <zlib.h>

/* The byte string at pos written with the shortest head (as cose._bstr_at reads it); its end, or NULL. */
static const unsigned char *
shortest_bstr(const unsigned char *pos, const unsigned char *end, const unsigned char **start, Py_ssize_t *size)
{
    if (pos >= end) {
        return NULL;
    }
    unsigned char head = pos[0];
    if (head >= 0x40 && head < 0x58) {
        *start = pos + 1;
        *size = head - 0x40;
    }
    else if (head == 0x58 && end - pos >= 2 && pos[1] >= 24) {
        *start = pos + 2;
        *size = pos[1];
    }
    else if (head == 0x59 && end - pos >= 3 && (pos[1] << 8 | pos[2]) >= 0x100) {
        *start = pos + 3;
        *size = pos[1] << 8 | pos[2];
    }
    else {
        return NULL;
    }
    if (end - *start < *size) {
        return NULL;
    }
    return *start + *size;
}

/* hc1_unwrap(text, max_size): (base45 text, zlib data, COSE bytes, protected, payload, signature)
 * of "HC1:" + canonical Base45 of a complete zlib stream (nothing after it, at most max_size
 * bytes inflated) holding a COSE_Sign1 in the usual layout (tag 18, shortest byte-string heads,
 * an empty unprotected map, nothing after): what prefix.strip, base45.decode,
 * compression.decompress and cose._usual_layout give.  None for anything else (Python then
 * decides and names the error). */
static PyObject *
hc1_unwrap(PyObject *module, PyObject *args)
{
    PyObject *text;
    Py_ssize_t max_size;
    if (!PyArg_ParseTuple(args, "On", &text, &max_size)) {
        return NULL;
    }
    Py_ssize_t size;
    const unsigned char *chars = PyUnicode_CheckExact(text) ? ascii_chars(text, &size) : NULL;
    if (chars == NULL || size < 4 || memcmp(chars, "HC1:", 4) != 0 || (size - 4) % 3 == 1 || max_size <= 0) {
        Py_RETURN_NONE;
    }
    PyObject *body = NULL, *compressed = NULL, *message = NULL, *out = NULL;
    unsigned char *inflated = NULL;
    compressed = PyBytes_FromStringAndSize(NULL, (size - 4) / 3 * 2 + ((size - 4) % 3 ? 1 : 0));
    if (compressed == NULL) {
        goto done;
    }
    const unsigned char *zdata = (const unsigned char *)PyBytes_AS_STRING(compressed);
    Py_ssize_t zsize = PyBytes_GET_SIZE(compressed);
    if (b45_decode_into(chars + 4, size - 4, (unsigned char *)zdata) < 0 || zsize < 2 || (zdata[0] & 0x0F) != 8 ||
        (zdata[0] >> 4) > 7 || (zdata[0] << 8 | zdata[1]) % 31 != 0 || zsize > UINT_MAX) {
        goto done;
    }
    inflated = PyMem_Malloc((size_t)max_size);
    if (inflated == NULL) {
        goto done;
    }
    z_stream stream;
    memset(&stream, 0, sizeof stream);
    if (inflateInit(&stream) != Z_OK) {
        goto done;
    }
    stream.next_in = (Bytef *)zdata;
    stream.avail_in = (uInt)zsize;
    stream.next_out = inflated;
    stream.avail_out = (uInt)(max_size > UINT_MAX ? UINT_MAX : max_size);
    int status = inflate(&stream, Z_FINISH);
    Py_ssize_t length = (Py_ssize_t)stream.total_out;
    inflateEnd(&stream);
    if (status != Z_STREAM_END || stream.avail_in != 0) { /* corrupt, truncated, too large, bytes after */
        goto done;
    }
    /* COSE_Sign1, the usual layout: d2 84, protected, a0, payload, signature, nothing after */
    const unsigned char *end = inflated + length, *prot, *payload, *signature, *pos;
    Py_ssize_t prot_size, payload_size, signature_size;
    if (length < 4 || inflated[0] != 0xD2 || inflated[1] != 0x84) {
        goto done;
    }
    pos = shortest_bstr(inflated + 2, end, &prot, &prot_size);
    if (pos == NULL || pos >= end || *pos != 0xA0) {
        goto done;
    }
    pos = shortest_bstr(pos + 1, end, &payload, &payload_size);
    if (pos == NULL) {
        goto done;
    }
    pos = shortest_bstr(pos, end, &signature, &signature_size);
    if (pos != end) {
        goto done;
    }
    body = PyUnicode_Substring(text, 4, size);
    message = PyBytes_FromStringAndSize((const char *)inflated, length);
    if (body == NULL || message == NULL) {
        goto done;
    }
    out = Py_BuildValue("(OOOy#y#y#)", body, compressed, message, prot, prot_size, payload, payload_size,
                        signature, signature_size);
done:
    PyErr_Clear();
    PyMem_Free(inflated);
    Py_XDECREF(body);
    Py_XDECREF(compressed);
    Py_XDECREF(message);
    if (out == NULL) {
        Py_RETURN_NONE;
    }
    return out;
}
#endif

/* ------------------------------------------------------------------ frozen dataclasses */

static PyObject *
make_frozen(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 2 || !PyType_Check(args[0]) || !PyTuple_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "make_frozen(cls, members, *values)");
        return NULL;
    }
    PyTypeObject *cls = (PyTypeObject *)args[0];
    PyObject *members = args[1];
    if (PyTuple_GET_SIZE(members) != nargs - 2) {
        PyErr_SetString(PyExc_TypeError, "make_frozen: one value per member");
        return NULL;
    }
    if (cls->tp_new != PyBaseObject_Type.tp_new) {
        PyErr_SetString(PyExc_TypeError, "make_frozen: the class must be created by object.__new__");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < nargs - 2; i++) {
        PyObject *member = PyTuple_GET_ITEM(members, i);
        if (Py_TYPE(member) != &PyMemberDescr_Type || PyDescr_TYPE(member) != cls) {
            PyErr_SetString(PyExc_TypeError, "make_frozen: members must be the class's own member descriptors");
            return NULL;
        }
    }
    PyObject *obj = cls->tp_alloc(cls, 0);
    if (obj == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < nargs - 2; i++) {
        PyMemberDescrObject *member = (PyMemberDescrObject *)PyTuple_GET_ITEM(members, i);
        if (PyMember_SetOne((char *)obj, member->d_member, args[i + 2]) < 0) {
            Py_DECREF(obj);
            return NULL;
        }
    }
    return obj;
}

/* ------------------------------------------------------------------------------ module */

static PyMethodDef methods[] = {
    {"b45decode", b45decode, METH_O, "Base45 text to bytes, or None (the Python decoder then explains)."},
    {"cbor_loads", cbor_loads, METH_O, "(item,) for the plain CBOR subset, or None (cbor2 then decides)."},
    {"plain_state", plain_state, METH_O, "vaxcert.stages.cbor._plain_state, or -1 (Python then answers)."},
    {"b45encode", b45encode, METH_O, "bytes to Base45 text, or None for anything but exact bytes."},
    {"cbor_dumps", cbor_dumps, METH_O, "cbor2.dumps of plain JSON, or None (cbor2 then encodes)."},
    {"der_to_raw", der_to_raw, METH_O, "r||s of a strict DER ECDSA P-256 signature, or None."},
    {"tidy_kind", tidy_kind, METH_O, "lenient.tidy_kind of an exact dict, or False (Python then answers)."},
    {"es256_inputs", (PyCFunction)(void (*)(void))es256_inputs, METH_FASTCALL,
     "(DER signature, Sig_structure) of an ES256 COSE_Sign1's parts, or None."},
    {"cwt_claims", cwt_claims, METH_O, "(iss, iat, exp, payload, tidy) of the usual CWT claims, or None."},
#ifdef VAXCERT_WITH_ZLIB
    {"hc1_unwrap", hc1_unwrap, METH_VARARGS, "The parts of usual HC1 text (Base45, zlib, COSE), or None."},
#endif
    {"make_frozen", (PyCFunction)(void (*)(void))make_frozen, METH_FASTCALL,
     "make_frozen(cls, members, *values): object.__new__(cls) with each member descriptor set."},
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
    if (init_known_keys() < 0 || init_names() < 0) {
        return NULL;
    }
    return PyModule_Create(&module_def);
}
