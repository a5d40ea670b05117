package org.dios.client;

/**
 * {@code java -jar dios-client.jar}: says where libdlibc was found and whether a daemon answers.
 * Exit status 0 when the null call went through, 1 when the daemon is not reachable, 2 when the
 * library is missing (the error says where it looked).
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        String lib;
        try {
            lib = Native.WHERE;
        } catch (UnsatisfiedLinkError | ExceptionInInitializerError e) {
            Throwable c = e instanceof ExceptionInInitializerError && e.getCause() != null ? e.getCause() : e;
            System.err.println(c.getMessage());
            System.exit(2);
            return;
        }
        System.out.println("dios-client: libdlibc from " + lib);
        try {
            Dios.nop();
            System.out.println("dios-client: daemon reachable (null call ok)");
        } catch (DiosException e) {
            System.out.println("dios-client: daemon not reachable: " + e.getMessage()
                    + " (start diosd, or set DIOS_SOCKET to its socket)");
            System.exit(1);
        }
    }
}
