// A small JSON reader and compact writer for the vector runner: objects keep their key
// order and numbers their text, and the writer escapes strings as serde_json does, so
// `Json.compact(value)` is the byte-exact compact form the conformance suite compares
// (`serde_json::to_string` of the parsed value in the Rust runner).

sealed class Json {
    class Obj(val members: List<Pair<String, Json>>) : Json() {
        operator fun get(key: String): Json? = members.firstOrNull { it.first == key }?.second
    }

    class Arr(val items: List<Json>) : Json()

    class Str(val value: String) : Json()

    class Num(val text: String) : Json()

    class Bool(val value: Boolean) : Json()

    object Null : Json()

    companion object {
        fun parse(text: String): Json {
            val p = Parser(text)
            p.ws()
            val v = p.value()
            p.ws()
            if (p.i != text.length) p.fail("trailing characters")
            return v
        }

        fun compact(v: Json): String = StringBuilder().also { write(v, it) }.toString()

        private fun write(v: Json, out: StringBuilder) {
            when (v) {
                is Obj -> {
                    out.append('{')
                    v.members.forEachIndexed { i, (k, x) ->
                        if (i > 0) out.append(',')
                        string(k, out)
                        out.append(':')
                        write(x, out)
                    }
                    out.append('}')
                }
                is Arr -> {
                    out.append('[')
                    v.items.forEachIndexed { i, x ->
                        if (i > 0) out.append(',')
                        write(x, out)
                    }
                    out.append(']')
                }
                is Str -> string(v.value, out)
                is Num -> out.append(v.text)
                is Bool -> out.append(if (v.value) "true" else "false")
                Null -> out.append("null")
            }
        }

        private const val HEX = "0123456789abcdef"

        private fun string(s: String, out: StringBuilder) {
            out.append('"')
            for (c in s) {
                when (c) {
                    '"' -> out.append("\\\"")
                    '\\' -> out.append("\\\\")
                    '\b' -> out.append("\\b")
                    '\u000C' -> out.append("\\f")
                    '\n' -> out.append("\\n")
                    '\r' -> out.append("\\r")
                    '\t' -> out.append("\\t")
                    else ->
                        if (c < ' ') {
                            out.append("\\u00").append(HEX[c.code shr 4]).append(HEX[c.code and 15])
                        } else {
                            out.append(c)
                        }
                }
            }
            out.append('"')
        }
    }

    private class Parser(val s: String) {
        var i = 0

        fun fail(why: String): Nothing = throw IllegalArgumentException("JSON: $why at offset $i")

        fun ws() {
            while (i < s.length && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) i++
        }

        fun value(): Json {
            if (i >= s.length) fail("unexpected end")
            return when (s[i]) {
                '{' -> obj()
                '[' -> arr()
                '"' -> Str(str())
                't' -> word("true", Bool(true))
                'f' -> word("false", Bool(false))
                'n' -> word("null", Null)
                else -> num()
            }
        }

        fun word(w: String, v: Json): Json {
            if (!s.startsWith(w, i)) fail("unexpected token")
            i += w.length
            return v
        }

        fun obj(): Json {
            i++
            val members = ArrayList<Pair<String, Json>>()
            ws()
            if (s[i] == '}') {
                i++
                return Obj(members)
            }
            while (true) {
                ws()
                if (s[i] != '"') fail("expected a key")
                val k = str()
                ws()
                if (s[i] != ':') fail("expected ':'")
                i++
                ws()
                val v = value()
                // A repeated key keeps its first place and takes the last value, as
                // serde_json's ordered map does.
                val at = members.indexOfFirst { it.first == k }
                if (at >= 0) members[at] = k to v else members.add(k to v)
                ws()
                when (s[i]) {
                    ',' -> i++
                    '}' -> {
                        i++
                        return Obj(members)
                    }
                    else -> fail("expected ',' or '}'")
                }
            }
        }

        fun arr(): Json {
            i++
            val items = ArrayList<Json>()
            ws()
            if (s[i] == ']') {
                i++
                return Arr(items)
            }
            while (true) {
                ws()
                items.add(value())
                ws()
                when (s[i]) {
                    ',' -> i++
                    ']' -> {
                        i++
                        return Arr(items)
                    }
                    else -> fail("expected ',' or ']'")
                }
            }
        }

        fun str(): String {
            i++
            val out = StringBuilder()
            while (true) {
                if (i >= s.length) fail("unterminated string")
                val c = s[i++]
                when (c) {
                    '"' -> return out.toString()
                    '\\' -> {
                        val e = s[i++]
                        when (e) {
                            '"', '\\', '/' -> out.append(e)
                            'b' -> out.append('\b')
                            'f' -> out.append('\u000C')
                            'n' -> out.append('\n')
                            'r' -> out.append('\r')
                            't' -> out.append('\t')
                            'u' -> {
                                out.append(s.substring(i, i + 4).toInt(16).toChar())
                                i += 4
                            }
                            else -> fail("bad escape")
                        }
                    }
                    else -> out.append(c)
                }
            }
        }

        fun num(): Json {
            val start = i
            while (i < s.length && s[i] in "+-0123456789.eE") i++
            if (i == start) fail("unexpected character '${s[start]}'")
            return Num(s.substring(start, i))
        }
    }
}
