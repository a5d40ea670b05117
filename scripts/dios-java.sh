# Sourced by the dist/ launchers: finds a Java 25+ runtime without starting a JVM.
# Order: $DIOS_JAVA_HOME, $JAVA_HOME, Temurin 25's Debian path, anything under /usr/lib/jvm.

dios_java_major() {
	sed -n 's/^JAVA_VERSION="\([0-9][0-9]*\).*/\1/p' "$1/release" 2>/dev/null
}

dios_find_java() {
	for h in "${DIOS_JAVA_HOME:-}" "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*; do
		[ -n "$h" ] && [ -x "$h/bin/java" ] || continue
		v=$(dios_java_major "$h")
		if [ -n "$v" ] && [ "$v" -ge 25 ]; then
			echo "$h/bin/java"
			return 0
		fi
	done
	echo "dios: needs Java 25 or later, and found none in \$DIOS_JAVA_HOME, \$JAVA_HOME or /usr/lib/jvm." >&2
	echo "dios: install a JDK 25 (e.g. Temurin 25) or point DIOS_JAVA_HOME at one." >&2
	return 1
}
