package org.dios.diosd.tasks;

/**
 * What the task registry and launcher enforce (flags of diosd): tasks in all
 * (--max-tasks) and per user (--max-tasks-per-user, -EAGAIN), each task's
 * reference and buffer tables (--max-refs, --max-buffers, -ENOMEM), and how
 * long a connection may take to say hello.
 */
public record TaskLimits(int maxTasks, int maxTasksPerUser, int maxRefs, int maxBuffers, long handshakeTimeoutNanos) {
}
