package org.dios.diosd.metrics;

import java.util.ArrayList;
import java.util.List;

/** A line diff for test failures: unified style, from a longest common subsequence. */
final class Diff {
    private Diff() {}

    /** "" if a and b are equal; else hunks of "-" (only in a), "+" (only in b) and context lines. */
    static String unified(List<String> a, List<String> b, int context) {
        int n = a.size(), m = b.size();
        int[][] lcs = new int[n + 1][m + 1];
        for (int i = n - 1; i >= 0; i--) {
            for (int j = m - 1; j >= 0; j--) {
                lcs[i][j] = a.get(i).equals(b.get(j)) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
            }
        }
        // the edit script: ' ' kept, '-' removed from a, '+' added from b
        List<String> lines = new ArrayList<>();
        List<Integer> lineA = new ArrayList<>();
        int i = 0, j = 0;
        while (i < n || j < m) {
            if (i < n && j < m && a.get(i).equals(b.get(j))) {
                lines.add("  " + a.get(i));
                lineA.add(i + 1);
                i++;
                j++;
            } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
                lines.add("- " + a.get(i));
                lineA.add(i + 1);
                i++;
            } else {
                lines.add("+ " + b.get(j++));
                lineA.add(i + 1);
            }
        }
        StringBuilder out = new StringBuilder();
        int last = -1; // last line printed
        for (int k = 0; k < lines.size(); k++) {
            if (lines.get(k).startsWith(" ")) continue;
            int from = Math.max(Math.max(0, k - context), last + 1);
            if (from > last + 1 || last < 0) out.append("@@ near expected line ").append(lineA.get(from)).append(" @@\n");
            int to = k;
            // extend through the changes that follow within 2 * context lines
            for (int q = k; q < lines.size() && q <= to + 2 * context; q++) {
                if (!lines.get(q).startsWith(" ")) to = q;
            }
            int end = Math.min(lines.size() - 1, to + context);
            for (int q = from; q <= end; q++) out.append(lines.get(q)).append('\n');
            last = end;
            k = end;
        }
        return out.toString();
    }
}
