package org.dios.diosd.journal;

import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Logger;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.helpers.NOPMDCAdapter;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

import org.dios.diosd.log.Log;

/**
 * Routes Chronicle Queue's SLF4J logging into the daemon's own log (one line
 * per event on stderr, {@link Log}), so its warnings (a lock forced open after
 * a crash, a file it had to grow back) appear beside ours with the same format
 * and level control. Chronicle's INFO chatter (mapping timings) becomes debug.
 *
 * <p>Found by SLF4J's ServiceLoader through
 * {@code META-INF/services/org.slf4j.spi.SLF4JServiceProvider}: without a
 * provider SLF4J prints a warning and drops every message.
 */
public final class Slf4jBridge implements SLF4JServiceProvider {
    private final IMarkerFactory markers = new BasicMarkerFactory();
    private final MDCAdapter mdc = new NOPMDCAdapter();
    private final ConcurrentHashMap<String, Logger> loggers = new ConcurrentHashMap<>();
    private final ILoggerFactory factory = name -> loggers.computeIfAbsent(name, BridgeLogger::new);

    @Override
    public ILoggerFactory getLoggerFactory() {
        return factory;
    }

    @Override
    public IMarkerFactory getMarkerFactory() {
        return markers;
    }

    @Override
    public MDCAdapter getMDCAdapter() {
        return mdc;
    }

    @Override
    public String getRequestedApiVersion() {
        return "2.0.99";
    }

    @Override
    public void initialize() {
    }

    /** The daemon level a library event is logged at: one lower than the library's for INFO. */
    static Log.Level mapped(Level l) {
        return switch (l) {
            case ERROR -> Log.Level.ERROR;
            case WARN -> Log.Level.WARN;
            default -> Log.Level.DEBUG; // INFO, DEBUG, TRACE: library chatter
        };
    }

    private static final class BridgeLogger extends LegacyAbstractLogger {
        private final String shortName;

        BridgeLogger(String name) {
            this.name = name;
            this.shortName = name.substring(name.lastIndexOf('.') + 1);
        }

        @Override
        public boolean isTraceEnabled() {
            return false;
        }

        @Override
        public boolean isDebugEnabled() {
            return false;
        }

        @Override
        public boolean isInfoEnabled() {
            return Log.enabled(Log.Level.DEBUG);
        }

        @Override
        public boolean isWarnEnabled() {
            return Log.enabled(Log.Level.WARN);
        }

        @Override
        public boolean isErrorEnabled() {
            return Log.enabled(Log.Level.ERROR);
        }

        @Override
        protected String getFullyQualifiedCallerName() {
            return null;
        }

        @Override
        protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] args,
                                                   Throwable t) {
            String msg = "chronicle " + shortName + ": " + MessageFormatter.basicArrayFormat(pattern, args);
            if (t != null) msg += " (" + t + ")";
            switch (mapped(level)) {
                case ERROR -> Log.error(msg);
                case WARN -> Log.warn(msg);
                default -> Log.debug(msg);
            }
            if (t != null && Log.enabled(Log.Level.DEBUG)) t.printStackTrace();
        }
    }
}
