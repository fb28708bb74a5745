/**
 * Implementation of mseal4j. <strong>Not API</strong>: the module does not export this package, and anything
 * in it may change in any release.
 *
 * <p>{@link io.github.mseal4j.internal.LibC} is the only class that makes restricted FFM calls.
 */
package io.github.mseal4j.internal;
