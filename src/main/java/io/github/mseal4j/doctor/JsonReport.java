package io.github.mseal4j.doctor;

import io.github.mseal4j.SealSupport;
import io.github.mseal4j.doctor.Doctor.Attempt;
import io.github.mseal4j.doctor.Doctor.Environment;
import io.github.mseal4j.doctor.Doctor.Hardening;
import io.github.mseal4j.doctor.Doctor.Report;
import io.github.mseal4j.internal.Errno;

/** The doctor's findings as one JSON object, for tools. */
final class JsonReport {
    private JsonReport() {
    }

    /**
     * The report as one JSON object.
     *
     * @param report the findings
     * @return the JSON text
     */
    static String of(Report report) {
        Json json = new Json();
        json.begin();
        json.field("version", report.version());
        json.field("osName", report.osName());
        json.field("osArch", report.osArch());
        json.field("javaVersion", report.javaVersion());
        json.field("javaVendor", report.javaVendor());
        json.field("kernelRelease", report.kernelRelease());
        json.field("pageSize", report.pageSize());
        verdict(json, "support", report.support());
        verdict(json, "immutability", report.immutability());
        Environment environment = report.environment();
        json.name("environment").begin();
        json.field("policy", environment.policy());
        json.field("policyValid", environment.policyValid());
        json.field("seccomp", environment.seccomp());
        json.field("mappings", environment.mappings());
        json.field("maxMapCount", environment.maxMapCount());
        json.field("headroom", environment.headroom());
        json.field("memlockLimit", environment.memlockLimit());
        json.field("fileSizeLimit", environment.fileSizeLimit());
        json.field("addressSpaceLimit", environment.addressSpaceLimit());
        json.field("dataLimit", environment.dataLimit());
        json.field("procMemForceOverride", environment.procMemForceOverride());
        json.field("sealedForGood", environment.sealedForGood());
        json.field("mappingKinds", environment.mappingKinds());
        json.end();
        report.demonstration().ifPresent(demo -> {
            json.name("demonstration").begin();
            json.field("address", Errno.hex(demo.address()));
            json.field("length", demo.length());
            json.field("failure", demo.failure().orElse(""));
            json.name("attempts").beginArray();
            for (Attempt attempt : demo.attempts()) {
                json.begin();
                json.field("call", attempt.call());
                json.field("errno", attempt.errno());
                json.field("errnoName", attempt.errno() == 0 ? "" : Errno.name(attempt.errno()));
                json.field("blocked", attempt.blocked());
                json.end();
            }
            json.endArray();
            json.field("contentsIntact", demo.contentsIntact());
            json.field("vmFlags", demo.vmFlags());
            json.field("kernelReportsSealed", demo.kernelReportsSealed());
            json.name("procSelfMem").begin();
            json.field("writeReachedSealedMemory", demo.procMemWriteReached());
            json.field("detail", demo.procMemDetail());
            json.end();
            Hardening hardening = demo.hardening();
            json.name("hardening").begin();
            json.field("options", hardening.options());
            json.field("data", hardening.data());
            json.field("guardBelow", hardening.guardBelow());
            json.field("guardAbove", hardening.guardAbove());
            json.field("guardsSealed", hardening.guardsSealed());
            json.field("note", hardening.note());
            json.end();
            demo.userfaultfd().ifPresent(uffd -> {
                json.name("userfaultfd").begin();
                json.field("refusedErrnoName", uffd.refused() == 0 ? "" : Errno.name(uffd.refused()));
                json.field("bareSealCopyErrnoName", errnoName(uffd.rawCopyErrno()));
                json.field("libraryCopyErrnoName", errnoName(uffd.libraryCopyErrno()));
                json.field("immutableRegisterErrnoName", errnoName(uffd.immutableRegisterErrno()));
                json.field("closedForLibraryMemory", uffd.closedForLibraryMemory());
                json.end();
            });
            demo.immutable().ifPresent(immutable -> {
                json.name("immutable").begin();
                json.field("mapping", immutable.mapping());
                json.field("kernelReportsImmutable", immutable.kernelReportsImmutable());
                json.field("procMemWriteRefused", immutable.procMemWriteRefused());
                json.field("procMemDetail", immutable.procMemDetail());
                json.field("mprotectErrnoName", immutable.mprotectErrno() == 0 ? "" : Errno.name(immutable.mprotectErrno()));
                json.field("contentsIntact", immutable.contentsIntact());
                json.field("proven", immutable.proven());
                json.end();
            });
            json.end();
        });
        json.field("verdict", report.verdict());
        json.field("exitStatus", report.exitStatus());
        json.end();
        return json.toString();
    }

    /** An errno as the JSON gives it: its name, {@code ""} for success, {@code "not tried"} for -1. */
    private static String errnoName(int errno) {
        return errno < 0 ? "not tried" : errno == 0 ? "" : Errno.name(errno);
    }

    private static void verdict(Json json, String name, SealSupport verdict) {
        json.name(name).begin();
        json.field("available", verdict.available());
        json.field("status", verdict.status().name());
        json.field("reason", verdict.reason());
        json.end();
    }
}
