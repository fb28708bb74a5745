package io.github.mseal4j;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.Events;
import java.util.Locale;

/**
 * A system call made by mseal4j failed. The message names the call, the address (hex), the length, the
 * other arguments, the errno with its symbolic name, and a remedy where one exists, for example:
 *
 * <pre>{@code
 * mseal(0x7f3a5c000000, 8192) failed: ENOMEM (errno 12): part of the range is not mapped, or the process
 * reached vm.max_map_count (65530) while splitting mappings; the range may now be partly sealed
 * }</pre>
 *
 * <p>Arguments are checked in Java before any call, so this exception reports what the kernel refused,
 * never a mistake the library could have caught first.
 */
public final class SystemCallException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The C function that failed. */
    private final String operation;
    /** Its address argument. */
    private final long address;
    /** Its length argument, in bytes. */
    private final long length;
    /** The errno it set. */
    private final int errno;

    /**
     * Describes a failed call.
     *
     * @param operation the C function, such as {@code mprotect}
     * @param address the address argument
     * @param length the length argument, in bytes
     * @param arguments the other arguments as C spells them (such as {@code PROT_READ}), or empty
     * @param errno the errno the call set
     */
    SystemCallException(String operation, long address, long length, String arguments, int errno) {
        super(message(operation, address, length, arguments, errno));
        this.operation = operation;
        this.address = address;
        this.length = length;
        this.errno = errno;
        Events.failed(operation, address, length, errno);
    }

    private SystemCallException(SystemCallException original, String note) {
        super(original.getMessage() + "; " + note, original);
        this.operation = original.operation;
        this.address = original.address;
        this.length = original.length;
        this.errno = original.errno;
    }

    /** This failure with {@code note} added to the message (what state it left); the original is the cause. */
    SystemCallException withNote(String note) {
        return new SystemCallException(this, note);
    }

    private static String message(String operation, long address, long length, String arguments, int errno) {
        String remedy;
        try {
            remedy = Errno.remedy(operation, errno, length, arguments);
        } catch (RuntimeException e) {
            remedy = ""; // what the kernel answered matters more than advice that could not be worked out
        }
        // Calls on the memfd of immutable memory take a descriptor, not an address: their arguments say it all.
        boolean onFile = switch (operation) {
            case "memfd_create", "ftruncate", "fcntl", "close", "open", "pwrite" -> true;
            default -> false;
        };
        String call = onFile ? arguments : String.format(Locale.ROOT, "%s, %d%s", Errno.hex(address), length,
            arguments.isEmpty() ? "" : ", " + arguments);
        return String.format(Locale.ROOT, "%s(%s) failed: %s (errno %d)%s", operation, call, Errno.name(errno), errno,
            remedy.isEmpty() ? "" : ": " + remedy);
    }

    /**
     * The C function that failed.
     *
     * @return its name, such as {@code mseal}, {@code mmap} or {@code mprotect}
     */
    public String operation() {
        return operation;
    }

    /**
     * The address the call was given.
     *
     * @return the address
     */
    public long address() {
        return address;
    }

    /**
     * The length the call was given.
     *
     * @return the length in bytes
     */
    public long length() {
        return length;
    }

    /**
     * The errno the call set.
     *
     * @return the errno number, such as 1
     */
    public int errno() {
        return errno;
    }

    /**
     * The symbolic name of {@link #errno()}.
     *
     * @return the name, such as {@code EPERM}, {@code EINVAL} or {@code ENOMEM}
     */
    public String errnoName() {
        return Errno.name(errno);
    }
}
