package org.dios.diosd.metrics;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;

import org.dios.diosd.ops.CallStats;
import org.dios.diosd.ops.DaemonSnapshot;


/**
 * The histograms whose buckets the conductor counts itself (plain arrays,
 * no atomics on the call path), rendered from the current snapshot:
 * <ul>
 * <li>{@code dios_call_duration_seconds{op}}: the daemon's service time of
 * each call, from taking its entry off the ring to writing its completion
 * (a parked call: until it parked). An op's series appears with its first
 * call. Buckets only, no client-side quantiles:
 * they aggregate across daemons and histogram_quantile() computes any
 * quantile from them (and Micrometer drops quantiles from a Timer that has
 * both);</li>
 * <li>{@code dios_ring_drain_entries}: submissions found by each drain of a
 * task's ring that found any, the ring occupancy the daemon sees (1 when
 * calls come one by one; up to 64, the drain cap, with batches or many
 * threads).</li>
 * </ul>
 */
final class SnapshotHistograms implements MultiCollector {
    private static final double[] SERVICE_LE = new double[CallStats.SERVICE_BUCKETS];
    private static final double[] DRAIN_LE = new double[CallStats.DRAIN_BUCKETS];

    static {
        for (int b = 0; b < CallStats.SERVICE_BOUNDS_NS.length; b++) SERVICE_LE[b] = CallStats.SERVICE_BOUNDS_NS[b] / 1e9;
        SERVICE_LE[CallStats.SERVICE_BUCKETS - 1] = Double.POSITIVE_INFINITY;
        for (int b = 0; b < CallStats.DRAIN_BUCKETS - 1; b++) DRAIN_LE[b] = 1 << b;
        DRAIN_LE[CallStats.DRAIN_BUCKETS - 1] = Double.POSITIVE_INFINITY;
    }

    private final Supplier<DaemonSnapshot> snapshot;

    SnapshotHistograms(Supplier<DaemonSnapshot> snapshot) {
        this.snapshot = snapshot;
    }

    @Override
    public MetricSnapshots collect() {
        DaemonSnapshot s = snapshot.get();
        HistogramSnapshot.Builder service = HistogramSnapshot.builder()
                .name("dios_call_duration_seconds")
                .unit(Unit.SECONDS)
                .help("Time the daemon spent serving each call, by op (the metrics flag turns the clock on)");
        for (int slot = 0; slot < CallStats.OPS; slot++) {
            // An op's series appears with its first call (dios_calls_total lists every op from the start):
            // 16 ops of 17 lines each, mostly zeros, would drown the ones in use.
            if (s.serviceCount(slot) == 0) continue;
            long[] counts = new long[CallStats.SERVICE_BUCKETS];
            for (int b = 0; b < counts.length; b++) counts[b] = s.serviceBucket(slot, b);
            service.dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder()
                    .labels(Labels.of("op", CallStats.opLabel(slot)))
                    .classicHistogramBuckets(ClassicHistogramBuckets.of(SERVICE_LE, counts))
                    .sum(s.serviceNanos(slot) / 1e9)
                    .build());
        }
        long[] drains = new long[CallStats.DRAIN_BUCKETS];
        for (int b = 0; b < drains.length; b++) drains[b] = s.drainBucket(b);
        HistogramSnapshot drain = HistogramSnapshot.builder()
                .name("dios_ring_drain_entries")
                .help("Submissions the conductor found in a task's ring per drain that found any")
                .dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder()
                        .classicHistogramBuckets(ClassicHistogramBuckets.of(DRAIN_LE, drains))
                        .sum(s.drainedEntries)
                        .build())
                .build();
        List<io.prometheus.metrics.model.snapshots.MetricSnapshot> all = new ArrayList<>(2);
        all.add(service.build());
        all.add(drain);
        return new MetricSnapshots(all);
    }

    @Override
    public List<String> getPrometheusNames() {
        return List.of("dios_call_duration_seconds", "dios_ring_drain_entries");
    }
}
