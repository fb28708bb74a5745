/**
 * The doctor: {@code java -jar mseal4j.jar [--json]} reports whether sealing and immutable memory work on
 * this host and demonstrates them on scratch pages. <strong>Not API</strong>: the module does not export
 * this package. It is a client of {@link io.github.mseal4j}, with the raw system calls it attacks with.
 */
package io.github.mseal4j.doctor;
