package io.github.mseal4j.testing;

import io.github.mseal4j.Protection;
import java.util.Arrays;
import java.util.Optional;

/**
 * What a system call should do to a region, according to {@link KernelRules}: the errno it returns (0 for
 * success) and the state of every page afterwards. Built from the layout before the call, then changed
 * where the rules say the call takes effect.
 */
public final class Expected {

    /** What a page should contain afterwards. */
    public enum Content {
        /** The bytes written before the call. */
        ORIGINAL,
        /** Zeros: discarded or freshly mapped. */
        ZERO,
        /** Either: MADV_FREE frees lazily, so the old bytes may still be there. */
        ORIGINAL_OR_ZERO,
        /** The bytes of the scratch mapping that was moved over it. */
        SCRATCH
    }

    /** The expected state of one page; {@code flag} is a VmFlags entry it must show, or null. */
    public record Page(boolean mapped, Protection protection, boolean sealed, Content content, String flag) {
        Page unmapped() {
            return new Page(false, Protection.NONE, false, content, null);
        }
    }

    private final int errno;
    private final Page[] pages;
    private final boolean moved;

    private Expected(int errno, Page[] pages, boolean moved) {
        this.errno = errno;
        this.pages = pages;
        this.moved = moved;
    }

    /** Nothing changes; the call returns {@code errno}. */
    public static Expected unchanged(Layout layout, int errno) {
        Page[] pages = new Page[layout.pages()];
        for (int i = 0; i < pages.length; i++) {
            Layout.PageState state = layout.page(i);
            pages[i] = new Page(state.mapped(), state.protection(), state.sealed(), Content.ORIGINAL, null);
        }
        return new Expected(errno, pages, false);
    }

    /** The errno the call should return; 0 for success. */
    public int errno() {
        return errno;
    }

    /** Whether (part of) the range should have moved to the destination. */
    public boolean moved() {
        return moved;
    }

    /** The expected state of {@code page}. */
    public Page page(int page) {
        return pages[page];
    }

    /** The same expectation with another errno. */
    public Expected withErrno(int newErrno) {
        return new Expected(newErrno, pages, moved);
    }

    /** Marks that data moved to the destination. */
    public Expected withMove() {
        return new Expected(errno, pages, true);
    }

    public Expected unmap(int from, int to) {
        for (int i = from; i < to; i++) {
            pages[i] = pages[i].unmapped();
        }
        return this;
    }

    public Expected protect(int from, int to, Protection protection) {
        for (int i = from; i < to; i++) {
            Page p = pages[i];
            pages[i] = new Page(p.mapped(), protection, p.sealed(), p.content(), p.flag());
        }
        return this;
    }

    public Expected content(int from, int to, Content content) {
        for (int i = from; i < to; i++) {
            Page p = pages[i];
            pages[i] = new Page(p.mapped(), p.protection(), p.sealed(), content, p.flag());
        }
        return this;
    }

    public Expected flag(int from, int to, String flag) {
        for (int i = from; i < to; i++) {
            Page p = pages[i];
            pages[i] = new Page(p.mapped(), p.protection(), p.sealed(), p.content(), flag);
        }
        return this;
    }

    /** A fresh private anonymous read-write mapping over {@code [from, to)} with {@code content}. */
    public Expected replace(int from, int to, Content content) {
        for (int i = from; i < to; i++) {
            pages[i] = new Page(true, Protection.READ_WRITE, false, content, null);
        }
        return this;
    }

    /** The first page whose state differs from {@code actual}, described, or empty. */
    public Optional<String> firstDifference(Layout actual) {
        for (int i = 0; i < pages.length; i++) {
            Page want = pages[i];
            Layout.PageState got = actual.page(i);
            if (want.mapped() != got.mapped()) {
                return Optional.of("page " + i + ": expected " + (want.mapped() ? "mapped" : "unmapped") + ", kernel says "
                    + (got.mapped() ? "mapped" : "unmapped"));
            }
            if (want.mapped() && (want.protection() != got.protection() || want.sealed() != got.sealed())) {
                return Optional.of("page " + i + ": expected " + want.protection() + (want.sealed() ? " sealed" : "")
                    + ", kernel says " + got.protection() + (got.sealed() ? " sealed" : "") + " " + got.flags());
            }
            if (want.mapped() && want.flag() != null && !got.flags().contains(want.flag())) {
                return Optional.of("page " + i + ": expected VmFlag " + want.flag() + ", kernel says " + got.flags());
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return "Expected[errno=" + errno + ", moved=" + moved + ", pages=" + Arrays.toString(pages) + "]";
    }
}
