package dev.streamtrain.ops;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Just enough PromQL lexing for the monitoring tests: the series selectors an expression reads (metric name and
 * label matchers), and the "signal" form of an alert expression.
 *
 * <p>The signal form turns every comparison into its {@code bool} form ({@code a > 5} becomes {@code a > bool 5}),
 * so that instead of filtering series it returns 0 or 1 for every series the comparison sees. An alert expression
 * returns nothing while all is well; its signal form returns a sample for each series it judges, which is what
 * proves that the expression finds real series (names, labels and joins right) in a healthy system. Only the
 * comparison operators outside label matchers ({@code {...}}) and strings are rewritten ({@code =~}, {@code !~}
 * and {@code =} only occur in matchers). The rewrite is valid for comparisons combined with arithmetic and with
 * {@code and}/{@code or} (both sides then have samples); {@code unless} and {@code absent()} would invert its
 * meaning, so the alert rules do not use them (PrometheusRulesTest checks).
 *
 * <p>The set operators keep their meaning, which is not a logical one on 0/1 values: {@code a and b} returns the
 * series (and the values) of {@code a} for which {@code b} has a series with the matching labels, and in the signal
 * form {@code b} has one for everything it judges, 0 or 1; so the result reflects the left operand only.
 * {@code a or b} likewise returns {@code b}'s series only where {@code a} has none. That is acceptable for the
 * checks made with it. "Returns data" still proves both sides: {@code and} returns nothing unless the right
 * operand's series exist and the join labels match. "Stays 0 on a healthy service" asks that the left operand
 * (in the rules, the alert's condition proper, e.g. the age above its limit, while the right one is a guard
 * such as "while the model trains") is false, which implies the alert cannot fire; it is stricter than needed,
 * never looser. The right operand of an {@code or} is not judged by it, which is why PrometheusIT also requires
 * that no such alert fires, and the promtool unit tests make every branch fire.
 */
final class PromqlExpressions {

    /** One series selector: a metric name and the text of its label matchers (empty when it has none). */
    record Selector(String metric, String matchers) {
    }

    private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right",
            "bool", "and", "or", "unless", "offset", "inf", "nan", "atan2",
            // aggregation operators, which may come before their by/without clause instead of their parenthesis
            "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
            "quantile");
    private static final Set<String> LABEL_LISTS = Set.of("by", "without", "on", "ignoring", "group_left",
            "group_right");
    private static final Pattern COMPARISON = Pattern.compile("==|!=|>=|<=|>|<");
    private static final Pattern BOOL = Pattern.compile("\\s*bool\\b");

    private PromqlExpressions() {
    }

    /** The expression with every comparison in its {@code bool} form (see the class comment). */
    static String signal(String expression) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < expression.length()) {
            char c = expression.charAt(i);
            int skip = skipQuotedOrMatchers(expression, i);
            if (skip > i) {
                out.append(expression, i, skip);
                i = skip;
                continue;
            }
            Matcher comparison = COMPARISON.matcher(expression).region(i, expression.length());
            if (comparison.lookingAt()) {
                out.append(comparison.group());
                i = comparison.end();
                if (!BOOL.matcher(expression).region(i, expression.length()).lookingAt()) {
                    out.append(" bool");
                }
                continue;
            }
            out.append(c);
            i++;
        }
        return out.toString();
    }

    /** Every series selector of the expression, in order. */
    static List<Selector> selectors(String expression) {
        List<Selector> selectors = new ArrayList<>();
        int i = 0;
        while (i < expression.length()) {
            char c = expression.charAt(i);
            if (c == '"' || c == '\'' || c == '`') {
                i = endOfQuoted(expression, i);
            } else if (c == '[') {
                i = expression.indexOf(']', i) + 1;
            } else if (c == '{') {
                // a selector without a name ({__name__=...}) is not used here
                i = endOfMatchers(expression, i);
            } else if (Character.isLetter(c) || c == '_' || c == ':') {
                int end = i;
                while (end < expression.length() && isNameChar(expression.charAt(end))) {
                    end++;
                }
                String word = expression.substring(i, end);
                int next = skipSpaces(expression, end);
                if (LABEL_LISTS.contains(word.toLowerCase()) && next < expression.length()
                        && expression.charAt(next) == '(') {
                    i = expression.indexOf(')', next) + 1;
                } else if (KEYWORDS.contains(word.toLowerCase())
                        || next < expression.length() && expression.charAt(next) == '(') {
                    i = end;
                } else if (next < expression.length() && expression.charAt(next) == '{') {
                    int close = endOfMatchers(expression, next);
                    selectors.add(new Selector(word, expression.substring(next + 1, close - 1)));
                    i = close;
                } else {
                    selectors.add(new Selector(word, ""));
                    i = end;
                }
            } else if (Character.isDigit(c)) {
                while (i < expression.length() && (isNameChar(expression.charAt(i)) || expression.charAt(i) == '.')) {
                    i++;
                }
            } else {
                i++;
            }
        }
        return selectors;
    }

    /** The metric names the expression reads. */
    static Set<String> metricNames(String expression) {
        Set<String> names = new LinkedHashSet<>();
        selectors(expression).forEach(selector -> names.add(selector.metric()));
        return names;
    }

    private static int skipQuotedOrMatchers(String expression, int i) {
        char c = expression.charAt(i);
        if (c == '"' || c == '\'' || c == '`') {
            return endOfQuoted(expression, i);
        }
        return c == '{' ? endOfMatchers(expression, i) : i;
    }

    private static int endOfMatchers(String expression, int open) {
        int i = open + 1;
        while (i < expression.length() && expression.charAt(i) != '}') {
            char c = expression.charAt(i);
            i = c == '"' || c == '\'' || c == '`' ? endOfQuoted(expression, i) : i + 1;
        }
        return Math.min(i + 1, expression.length());
    }

    private static int endOfQuoted(String expression, int open) {
        char quote = expression.charAt(open);
        int i = open + 1;
        while (i < expression.length() && expression.charAt(i) != quote) {
            i += expression.charAt(i) == '\\' && quote != '`' ? 2 : 1;
        }
        return Math.min(i + 1, expression.length());
    }

    private static int skipSpaces(String expression, int i) {
        while (i < expression.length() && Character.isWhitespace(expression.charAt(i))) {
            i++;
        }
        return i;
    }

    private static boolean isNameChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == ':';
    }
}
