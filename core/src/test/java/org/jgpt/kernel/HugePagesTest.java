package org.jgpt.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** HugePages hands out zeroed, writable memory of the size asked, tied to the arena given. */
class HugePagesTest {
    private static final long HUGE_PAGE = 2L << 20;

    @Test
    void largeBuffersAreZeroedWritableAndStartOnAHugePageOnLinux() {
        long bytes = 5 * HUGE_PAGE + 12_345; // a partial last huge page and a partial last 4 KB page
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment segment = HugePages.allocate(bytes, arena);
            assertEquals(bytes, segment.byteSize());
            for (long i = 0; i < bytes; i += 4093) assertEquals(0, segment.get(ValueLayout.JAVA_BYTE, i));
            assertEquals(0, segment.get(ValueLayout.JAVA_BYTE, bytes - 1));
            segment.set(ValueLayout.JAVA_BYTE, bytes - 1, (byte) 7);
            segment.set(ValueLayout.JAVA_BYTE, 0, (byte) 9);
            assertEquals(7, segment.get(ValueLayout.JAVA_BYTE, bytes - 1));
            assertEquals(9, segment.get(ValueLayout.JAVA_BYTE, 0));
            boolean linux = System.getProperty("os.name").toLowerCase(Locale.ROOT).startsWith("linux");
            long alignment = linux && HugePages.class.getModule().isNativeAccessEnabled() ? HUGE_PAGE : 64;
            assertEquals(0, segment.address() % alignment, "address " + Long.toHexString(segment.address()));
            assertTrue(segment.scope().isAlive());
        }
    }

    @Test
    void closingTheArenaReleasesTheMapping() {
        Arena arena = Arena.ofShared();
        MemorySegment segment = HugePages.allocate(3 * HUGE_PAGE, arena);
        segment.fill((byte) 1);
        arena.close();
        assertFalse(segment.scope().isAlive());
        assertThrows(IllegalStateException.class, () -> segment.get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void smallBuffersComeFromTheArenaAligned() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment segment = HugePages.allocate(1000, arena);
            assertEquals(1000, segment.byteSize());
            assertEquals(0, segment.address() % 64);
            for (long i = 0; i < 1000; i++) assertEquals(0, segment.get(ValueLayout.JAVA_BYTE, i));
        }
    }
}
