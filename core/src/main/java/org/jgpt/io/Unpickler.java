package org.jgpt.io;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A restricted unpickler for the {@code data.pkl} of {@code torch.save}: it implements only the opcodes torch writes
 * and knows only the globals that rebuild a state dict of tensors. Any other global is refused by name, so no code
 * from a checkpoint ever runs. Tuples come out as unmodifiable lists, lists as {@link ArrayList}, dicts as
 * {@link LinkedHashMap}, ints as {@code Long}, tensors as {@link TensorRef}.
 */
final class Unpickler {
    /** The globals a state dict needs: the storage types are only tags, never called. */
    enum Global {
        REBUILD_TENSOR("torch._utils._rebuild_tensor_v2", null, 0),
        REBUILD_PARAMETER("torch._utils._rebuild_parameter", null, 0),
        ORDERED_DICT("collections.OrderedDict", null, 0),
        FLOAT_STORAGE("torch.FloatStorage", "F32", 4),
        HALF_STORAGE("torch.HalfStorage", "F16", 2),
        BFLOAT16_STORAGE("torch.BFloat16Storage", "BF16", 2),
        // Hugging Face's older attention-mask buffers (attn.bias): read past, never turned into tensors.
        BOOL_STORAGE("torch.BoolStorage", "BOOL", 1),
        BYTE_STORAGE("torch.ByteStorage", "U8", 1);

        final String qualifiedName;
        final String dtype;
        final int elementBytes;

        Global(String qualifiedName, String dtype, int elementBytes) {
            this.qualifiedName = qualifiedName;
            this.dtype = dtype;
            this.elementBytes = elementBytes;
        }
    }

    /** A tensor as {@code _rebuild_tensor_v2} describes it: a view of a storage, in elements. */
    record TensorRef(Object storage, long offset, long[] shape, long[] stride) {}

    private static final Map<String, Global> GLOBALS = new HashMap<>();

    static {
        for (Global g : Global.values()) GLOBALS.put(g.qualifiedName, g);
    }

    private final Path file;
    private final String entry;
    private final ByteBuffer in;
    private final Function<List<Object>, Object> persistentLoad;
    private final List<Object> stack = new ArrayList<>();
    private final Deque<Integer> marks = new ArrayDeque<>();
    private final Map<Long, Object> memo = new HashMap<>();
    private int opcodeAt;

    private Unpickler(Path file, String entry, byte[] pickle, Function<List<Object>, Object> persistentLoad) {
        this.file = file;
        this.entry = entry;
        this.in = ByteBuffer.wrap(pickle).order(ByteOrder.LITTLE_ENDIAN);
        this.persistentLoad = persistentLoad;
    }

    /**
     * Unpickles {@code pickle} (the zip entry {@code entry} of {@code file}, for error messages); persistent ids
     * (torch's storage tuples) go to {@code persistentLoad}.
     */
    static Object load(Path file, String entry, byte[] pickle, Function<List<Object>, Object> persistentLoad) {
        Unpickler u = new Unpickler(file, entry, pickle, persistentLoad);
        try {
            return u.run();
        } catch (java.nio.BufferUnderflowException e) {
            throw u.error("pickle ends early");
        }
    }

    private Object run() {
        while (true) {
            opcodeAt = in.position();
            int op = in.get() & 0xFF;
            switch (op) {
                case 0x80 -> in.get(); // PROTO
                case 0x95 -> in.getLong(); // FRAME: a length hint
                case '.' -> { // STOP
                    return pop();
                }
                case '(' -> marks.push(stack.size()); // MARK
                case '0' -> pop(); // POP
                case '1' -> popMark(); // POP_MARK
                case '2' -> push(peek()); // DUP
                case 'N' -> push(null);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'J' -> push((long) in.getInt()); // BININT
                case 'K' -> push((long) (in.get() & 0xFF)); // BININT1
                case 'M' -> push((long) (in.getShort() & 0xFFFF)); // BININT2
                case 0x8a -> push(long1()); // LONG1
                case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(in.getLong()))); // BINFLOAT: big-endian
                case 'X' -> push(string(length(in.getInt() & 0xFFFFFFFFL), true)); // BINUNICODE
                case 0x8c -> push(string(in.get() & 0xFF, true)); // SHORT_BINUNICODE
                case 0x8d -> push(string(length(in.getLong()), true)); // BINUNICODE8
                case 'T' -> push(string(length(in.getInt() & 0xFFFFFFFFL), false)); // BINSTRING
                case 'U' -> push(string(in.get() & 0xFF, false)); // SHORT_BINSTRING
                case ')' -> push(List.of()); // EMPTY_TUPLE
                case 't' -> push(tuple(popMark())); // TUPLE
                case 0x85 -> push(tuple(pop())); // TUPLE1
                case 0x86 -> {
                    Object b = pop(), a = pop();
                    push(tuple(a, b));
                }
                case 0x87 -> {
                    Object c = pop(), b = pop(), a = pop();
                    push(tuple(a, b, c));
                }
                case ']' -> push(new ArrayList<>()); // EMPTY_LIST
                case 'a' -> list(peekBelow(1)).add(pop()); // APPEND
                case 'e' -> { // APPENDS
                    List<Object> items = popMark();
                    list(peek()).addAll(items);
                }
                case '}' -> push(new LinkedHashMap<>()); // EMPTY_DICT
                case 'd' -> { // DICT
                    Map<Object, Object> dict = new LinkedHashMap<>();
                    putAll(dict, popMark());
                    push(dict);
                }
                case 's' -> { // SETITEM
                    Object value = pop(), key = pop();
                    dict(peek()).put(key, value);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark();
                    putAll(dict(peek()), items);
                }
                case 'c' -> push(global(line() + "." + line())); // GLOBAL
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop(), module = pop();
                    push(global(module + "." + name));
                }
                case 'R' -> { // REDUCE
                    Object args = pop(), callable = pop();
                    push(call(callable, args));
                }
                case 'b' -> { // BUILD: only OrderedDict's attribute dict (torch's _metadata), which a state dict needs not
                    Object state = pop();
                    if (!(peek() instanceof Map)) throw error("cannot BUILD a " + typeName(peek()) + " with " + typeName(state));
                }
                case 'Q' -> { // BINPERSID
                    Object pid = pop();
                    if (!(pid instanceof List<?> tuple)) throw error("persistent id is not a tuple: " + typeName(pid));
                    push(persistentLoad.apply(Collections.unmodifiableList(tuple)));
                }
                case 'q' -> memo.put((long) (in.get() & 0xFF), peek()); // BINPUT
                case 'r' -> memo.put(in.getInt() & 0xFFFFFFFFL, peek()); // LONG_BINPUT
                case 0x94 -> memo.put((long) memo.size(), peek()); // MEMOIZE
                case 'h' -> push(memo((long) (in.get() & 0xFF))); // BINGET
                case 'j' -> push(memo(in.getInt() & 0xFFFFFFFFL)); // LONG_BINGET
                default -> throw error(String.format("unsupported opcode 0x%02x", op));
            }
        }
    }

    private Object global(String name) {
        Global g = GLOBALS.get(name);
        if (g == null) {
            throw new CheckpointException(file, entry + " refers to the forbidden global " + name
                    + ": only torch's tensor-rebuilding globals are allowed, and no code from a checkpoint is run");
        }
        return g;
    }

    private Object call(Object callable, Object args) {
        if (!(callable instanceof Global g)) throw error("cannot call a " + typeName(callable));
        if (!(args instanceof List<?> a)) throw error(g.qualifiedName + " called without an argument tuple");
        return switch (g) {
            case ORDERED_DICT -> {
                if (!a.isEmpty()) throw error("collections.OrderedDict called with arguments");
                yield new LinkedHashMap<>();
            }
            case REBUILD_TENSOR -> { // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
                if (a.size() < 4) throw error("_rebuild_tensor_v2 called with " + a.size() + " arguments");
                yield new TensorRef(a.get(0), integer(a.get(1)), integers(a.get(2)), integers(a.get(3)));
            }
            case REBUILD_PARAMETER -> { // (data, requires_grad, backward_hooks)
                if (a.isEmpty() || !(a.get(0) instanceof TensorRef t)) throw error("_rebuild_parameter without a tensor");
                yield t;
            }
            default -> throw error("cannot call " + g.qualifiedName);
        };
    }

    private long long1() {
        byte[] b = new byte[in.get() & 0xFF];
        in.get(b);
        for (int i = 0, j = b.length - 1; i < j; i++, j--) { // little-endian two's complement to big-endian
            byte t = b[i];
            b[i] = b[j];
            b[j] = t;
        }
        if (b.length == 0) return 0;
        BigInteger value = new BigInteger(b);
        if (value.bitLength() > 63) throw error("integer " + value + " does not fit 64 bits");
        return value.longValue();
    }

    private int length(long n) {
        if (n > in.remaining()) throw error("string of " + n + " bytes runs past the end of the pickle");
        return (int) n;
    }

    private String string(int n, boolean utf8) {
        byte[] b = new byte[n];
        in.get(b);
        return new String(b, utf8 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    }

    private String line() {
        StringBuilder sb = new StringBuilder();
        for (byte b; (b = in.get()) != '\n'; ) sb.append((char) (b & 0xFF));
        return sb.toString();
    }

    private static List<Object> tuple(Object... items) {
        return Collections.unmodifiableList(Arrays.asList(items));
    }

    private static List<Object> tuple(List<Object> items) {
        return Collections.unmodifiableList(items);
    }

    private void putAll(Map<Object, Object> dict, List<Object> items) {
        if (items.size() % 2 != 0) throw error("odd number of items for a dict");
        for (int i = 0; i < items.size(); i += 2) dict.put(items.get(i), items.get(i + 1));
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o) {
        if (o instanceof ArrayList<?> l) return (List<Object>) l;
        throw error("cannot append to a " + typeName(o));
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object o) {
        if (o instanceof LinkedHashMap<?, ?> m) return (Map<Object, Object>) m;
        throw error("cannot set an item of a " + typeName(o));
    }

    private long integer(Object o) {
        if (o instanceof Long n) return n;
        throw error("expected an integer, found a " + typeName(o));
    }

    private long[] integers(Object o) {
        if (!(o instanceof List<?> list)) throw error("expected a tuple of integers, found a " + typeName(o));
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) out[i] = integer(list.get(i));
        return out;
    }

    private Object memo(long key) {
        if (!memo.containsKey(key)) throw error("memo key " + key + " was never stored");
        return memo.get(key);
    }

    private void push(Object o) {
        stack.add(o);
    }

    private Object pop() {
        if (stack.isEmpty() || (!marks.isEmpty() && stack.size() == marks.peek())) throw error("stack underflow");
        return stack.removeLast();
    }

    private Object peek() {
        return peekBelow(0);
    }

    private Object peekBelow(int depth) {
        if (stack.size() <= depth) throw error("stack underflow");
        return stack.get(stack.size() - 1 - depth);
    }

    private List<Object> popMark() {
        if (marks.isEmpty()) throw error("no MARK on the stack");
        List<Object> top = stack.subList(marks.pop(), stack.size());
        List<Object> items = new ArrayList<>(top);
        top.clear();
        return items;
    }

    private static String typeName(Object o) {
        return switch (o) {
            case null -> "None";
            case Global g -> g.qualifiedName;
            case List<?> l -> "tuple/list";
            case Map<?, ?> m -> "dict";
            default -> o.getClass().getSimpleName();
        };
    }

    private CheckpointException error(String message) {
        return new CheckpointException(file, entry + ": malformed pickle at byte " + opcodeAt + ": " + message);
    }
}
