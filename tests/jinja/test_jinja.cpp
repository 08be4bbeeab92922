// Interpreter features against outputs of Jinja2 3.1.6 configured as transformers configures it
// (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, transformers' tojson).
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "jinja/jinja.hpp"
#include "util/error.hpp"

namespace ovllm::jinja {
namespace {

struct Case {
    const char* name;
    const char* source;
    const char* context;  // JSON object of template variables
    const char* expected;
};

// Expected outputs were produced by Jinja2 from the same template and variables.
const Case kCases[] = {
    {"whitespace_control",
     R"J(a  {{- 'b' -}}  c
  {%- if true -%}  d  {%- endif -%}  e)J",
     R"J({})J", R"J(abcde)J"},
    {"trim_blocks",
     R"J({% if true %}
x
{% endif %}
y)J",
     R"J({})J",
     R"J(x
y)J"},
    {"lstrip_blocks",
     R"J(  {% if true %}
  x
  {% endif %}
  {{ 'v' }}
)J",
     R"J({})J",
     R"J(  x
  v)J"},
    {"lstrip_only_whitespace_before",
     R"J(a {% if true %}b{% endif %}
	{% if true %}c{% endif %})J",
     R"J({})J", R"J(a bc)J"},
    {"plus_disables_lstrip_and_trim",
     R"J(  {%+ if true +%}
x
  {%+ endif %})J",
     R"J({})J",
     R"J(  
x
  )J"},
    {"comments",
     R"J(a {# c #} b
  {# own line #}
c {#- x -#}  d)J",
     R"J({})J",
     R"J(a  b
cd)J"},
    {"raw_block", R"J({% raw %}{{ x }}{% if %}{% endraw %}!)J", R"J({})J", R"J({{ x }}{% if %}!)J"},
    {"trailing_newline_dropped",
     R"J(x
)J",
     R"J({})J", R"J(x)J"},
    {"loop_variables",
     R"J({% for x in ['a','b','c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }}{{ loop.revindex0 }}|{% endfor %})J",
     R"J({})J", R"J(10TrueFalse332|21FalseFalse321|32FalseTrue310|)J"},
    {"loop_prev_next_cycle",
     R"J({% for x in [1,2,3] %}{{ loop.previtem }}<{{ x }}>{{ loop.nextitem }} {{ loop.cycle('odd','even') }};{% endfor %})J",
     R"J({})J", R"J(<1>2 odd;1<2>3 even;2<3> odd;)J"},
    {"for_else", R"J({% for x in [] %}x{% else %}empty{% endfor %})J", R"J({})J", R"J(empty)J"},
    {"for_over_undefined_is_empty", R"J({% for x in missing %}x{% else %}none{% endfor %})J",
     R"J({})J", R"J(none)J"},
    {"tuple_unpacking_items", R"J({% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %})J",
     R"J({"d": {"z": 1, "a": 2}})J", R"J(z=1;a=2;)J"},
    {"loop_filter",
     R"J({% for x in range(10) if x is odd %}{{ x }}{{ loop.length }},{% endfor %})J", R"J({})J",
     R"J(15,35,55,75,95,)J"},
    {"break_continue",
     R"J({% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %})J",
     R"J({})J", R"J(0134)J"},
    {"nested_loops",
     R"J({% for a in [1,2] %}{% for b in 'xy' %}{{ a }}{{ b }}{{ loop.index }}/{{ loop.length }} {% endfor %}{{ loop.index }}|{% endfor %})J",
     R"J({})J", R"J(1x1/2 1y2/2 1|2x1/2 2y2/2 2|)J"},
    {"set_in_loop_does_not_leak",
     R"J({% set x = 1 %}{% for i in range(2) %}{{ x }}{% set x = 5 %}{{ x }}{% endfor %}{{ x }})J",
     R"J({})J", R"J(15151)J"},
    {"set_in_if_leaks", R"J({% if true %}{% set x = 3 %}{% endif %}{{ x }})J", R"J({})J", R"J(3)J"},
    {"namespace",
     R"J({% set ns = namespace(n=0, s='') %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% set ns.s = ns.s ~ i %}{% endfor %}{{ ns.n }} {{ ns.s }})J",
     R"J({})J", R"J(6 0123)J"},
    {"set_tuple", R"J({% set a, b = 1, 2 %}{{ a }}{{ b }})J", R"J({})J", R"J(12)J"},
    {"block_set",
     R"J({% set x %}a{{ 1 }}{% endset %}{{ x }}|{% set y | upper %}b{% endset %}{{ y }})J",
     R"J({})J", R"J(a1|B)J"},
    {"macro",
     R"J({% macro f(a, b='d') %}{{ a }}-{{ b }}{% endmacro %}{{ f(1) }},{{ f(1, b=2) }},{{ f(b=3, a=4) }})J",
     R"J({})J", R"J(1-d,1-2,4-3)J"},
    {"call_block",
     R"J({% macro w(t) %}<{{ t }}:{{ caller() }}>{% endmacro %}{% call w('x') %}in{% endcall %})J",
     R"J({})J", R"J(<x:in>)J"},
    {"if_elif_else",
     R"J({% for v in [1, 2, 3] %}{% if v == 1 %}one{% elif v == 2 %}two{% else %}many{% endif %} {% endfor %})J",
     R"J({})J", R"J(one two many )J"},
    {"filter_block", R"J({% filter upper %}abc{{ 'd' }}{% endfilter %})J", R"J({})J", R"J(ABCD)J"},
    {"tojson_transformers", R"J({{ d | tojson }})J",
     R"J({"d": {"b": "<tag> & \u00e9 \u4e2d \ud83d\ude00", "a": [1, 2.5, null, true, "q\"\\\n\t\u0001"], "c": {}}})J",
     R"J({"b": "<tag> & é 中 😀", "a": [1, 2.5, null, true, "q\"\\\n\t\u0001"], "c": {}})J"},
    {"tojson_indent", R"J({{ d | tojson(indent=2) }})J",
     R"J({"d": {"b": [1, {"x": []}], "a": "s"}})J",
     R"J({
  "b": [
    1,
    {
      "x": []
    }
  ],
  "a": "s"
})J"},
    {"tojson_string_and_sort_keys", R"J({{ s | tojson }} {{ d | tojson(sort_keys=true) }})J",
     R"J({"s": "{\"query\": \"x\"}", "d": {"b": 1, "a": 2}})J",
     R"J("{\"query\": \"x\"}" {"a": 2, "b": 1})J"},
    {"string_filters",
     R"J([{{ '  x y  ' | trim }}][{{ 'aBc' | upper }}][{{ 'aBc' | lower }}][{{ 'hello world' | capitalize }}][{{ 'hello big-world(x' | title }}][{{ 'aaa' | replace('a', 'b', 2) }}])J",
     R"J({})J", R"J([x y][ABC][abc][Hello world][Hello Big-World(X][bba])J"},
    {"length_and_count",
     R"J({{ 'héllo' | length }} {{ [1,2] | count }} {{ {'a': 1} | length }} {{ missing | length }})J",
     R"J({})J", R"J(5 2 1 0)J"},
    {"join_first_last",
     R"J({{ [1, 'a', none] | join(', ') }} {{ [3, 4] | first }} {{ [3, 4] | last }} {{ 'xyz' | first }} {{ ['a','b'] | join }})J",
     R"J({})J", R"J(1, a, None 3 4 x ab)J"},
    {"default_filter",
     R"J({{ missing | default('dflt') }} {{ none | default('dflt') }} {{ '' | default('e', true) }} {{ missing | d }}|)J",
     R"J({})J", R"J(dflt None e |)J"},
    {"conversion_filters",
     R"J({{ 'abc' | list }} {{ 12 | string }}{{ '42' | int + 1 }} {{ '3.5' | float }} {{ 'x' | int }} {{ 3.9 | int }} {{ -5 | abs }} {{ 2.567 | round(2) }} {{ 2.5 | round }})J",
     R"J({})J", R"J(['a', 'b', 'c'] 1243 3.5 0 3 5 2.57 2.0)J"},
    {"items_and_dictsort",
     R"J({% for k, v in d | items %}{{ k }}{{ v }}{% endfor %} {% for k, v in d | dictsort %}{{ k }}{{ v }}{% endfor %} {% for p in d | dictsort(by='value', reverse=true) %}{{ p[0] }}{{ p[1] }}{% endfor %} {{ (d | dictsort)[0] | list }})J",
     R"J({"d": {"b": 1, "A": 3, "c": 2}})J", R"J(b1A3c2 A3b1c2 A3c2b1 ['A', 3])J"},
    {"map_select_reject",
     R"J({{ users | map(attribute='name') | join(',') }} {{ [1,2,3,4] | select('even') | list }} {{ [1,2,3,4] | reject('odd') | list }} {{ [0, 1, '', 'a'] | select | list }} {{ ['a','b'] | map('upper') | list }})J",
     R"J({"users": [{"name": "x"}, {"name": "y"}]})J",
     R"J(x,y [2, 4] [2, 4] [1, 'a'] ['A', 'B'])J"},
    {"selectattr_rejectattr",
     R"J({{ ms | selectattr('role', 'equalto', 'user') | map(attribute='c') | join }} {{ ms | rejectattr('role', 'eq', 'user') | map(attribute='c') | join }} {{ ms | selectattr('flag') | list | length }})J",
     R"J({"ms": [{"role": "user", "c": "1", "flag": true}, {"role": "bot", "c": "2"}, {"role": "user", "c": "3"}]})J",
     R"J(13 2 1)J"},
    {"unique_sort_reverse_minmax_sum",
     R"J({{ [3, 1, 3, 2] | unique | list }} {{ ['b', 'A', 'c'] | sort }} {{ [1, 2, 3] | reverse | list }} {{ 'abc' | reverse }} {{ [4, 2, 8] | min }} {{ [4, 2, 8] | max }} {{ [1, 2, 3] | sum }})J",
     R"J({})J", R"J([3, 1, 2] ['A', 'b', 'c'] [3, 2, 1] cba 2 8 6)J"},
    {"indent_filter",
     R"J({{ 'a
b

c' | indent(2) }}|{{ 'a
b' | indent(3, true) }}|{{ 'a

b' | indent(2, blank=true) }})J",
     R"J({})J",
     R"J(a
  b

  c|   a
   b|a
  
  b)J"},
    {"safe_escape", R"J({{ '<b>' | safe }} {{ '<a href="x">&' | escape }})J", R"J({})J",
     R"J(<b> &lt;a href=&#34;x&#34;&gt;&amp;)J"},
    {"tests",
     R"J({{ x is defined }}{{ missing is undefined }}{{ none is none }}{{ 's' is string }}{{ {} is mapping }}{{ 1.5 is number }}{{ 1 is integer }}{{ 1.0 is integer }}{{ [] is iterable }}{{ 'a' is sequence }}{{ true is boolean }}{{ true is true }}{{ 0 is false }}{{ 4 is even }}{{ 3 is odd }}{{ 9 is divisibleby 3 }}{{ 2 is in [1, 2] }}{{ x is not none }})J",
     R"J({"x": 1})J",
     R"J(TrueTrueTrueTrueTrueTrueTrueFalseTrueTrueTrueTrueFalseTrueTrueTrueTrueTrue)J"},
    {"slicing",
     R"J({{ [1,2,3,4][::-1] }} {{ 'hello'[1:] }} {{ 'héllo'[1:3] }} {{ [1,2,3][-1] }} {{ [1,2,3,4,5][1:4:2] }} {{ 'abc'[:-1] }} {{ [1,2,3][5:] }} {{ 'abcdef'[-2:] }})J",
     R"J({})J", R"J([4, 3, 2, 1] ello él 3 [2, 4] ab [] ef)J"},
    {"arithmetic",
     R"J({{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 4 / 2 }} {{ 2 ** 10 }} {{ 1 + 2.5 }} {{ 'a' ~ 1 ~ none ~ missing }} {{ 'ab' * 2 }} {{ [1] + [2] }} {{ 1 - 3 * 2 }} {{ -2 ** 2 }} {{ 0.1 + 0.2 }})J",
     R"J({})J", R"J(3 -4 1 2 3.5 2.0 1024 3.5 a1None abab [1, 2] -5 4 0.30000000000000004)J"},
    {"comparisons_and_logic",
     R"J({{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'a' in 'cat' }} {{ 'x' not in ['x'] }} {{ 'k' in {'k': 1} }} {{ 0 or 'x' }} {{ 1 and 'y' }} {{ not 0 }} {{ none == none }} {{ 1 == 1.0 }} {{ 'a' != 'b' }} {{ [1, 2] == [1, 2] }})J",
     R"J({})J", R"J(True False True False True x y True True True True True)J"},
    {"ternary", R"J({{ 'a' if x else 'b' }}{{ 'c' if not x else 'd' }}[{{ 'e' if false }}])J",
     R"J({"x": 1})J", R"J(ad[])J"},
    {"string_methods",
     R"J({{ 'abc'.startswith('ab') }} {{ 'abc'.endswith('bc') }} [{{ '  s  '.strip() }}] [{{ 'xxsxx'.lstrip('x') }}] [{{ ' s '.rstrip() }}] {{ 'a b  c'.split() }} {{ 'a,b,c'.split(',', 1) }} {{ 'hello world'.title() }} {{ 'a-b'.replace('-', '+') }} {{ '{}+{}={x}'.format(1, 2, x=3) }} {{ 'AbC'.upper() }}{{ 'AbC'.lower() }})J",
     R"J({})J",
     R"J(True True [s] [sxx] [ s] ['a', 'b', 'c'] ['a', 'b,c'] Hello World a+b 1+2=3 ABCabc)J"},
    {"dict_methods",
     R"J({{ d.get('a') }} {{ d.get('z', 'dflt') }} {{ d.get('z') }} {{ d.keys() | list }} {{ d.values() | list }} {{ d['a'] }} {{ d.a }})J",
     R"J({"d": {"a": 1, "b": [2]}})J", R"J(1 dflt None ['a', 'b'] [1, [2]] 1 1)J"},
    {"printing_values",
     R"J({{ none }} {{ true }} {{ 1.0 }} {{ 1e20 }} {{ 1.5e-7 }} {{ 123456789.125 }} {{ [1, 'a', none, true, 2.0] }} {{ {'k': 'v', 'n': [1]} }} {{ "it's" }} {{ ['it\'s'] }})J",
     R"J({})J",
     R"J(None True 1.0 1e+20 1.5e-07 123456789.125 [1, 'a', None, True, 2.0] {'k': 'v', 'n': [1]} it's ["it's"])J"},
    {"string_escapes", R"J({{ 'a\nb\t\u00e9\x41\\' }}|{{ "q\"q" }}|{{ 'a' 'b' }})J", R"J({})J",
     R"J(a
b	éA\|q"q|ab)J"},
    {"undefined_renders_empty",
     R"J([{{ missing }}][{{ missing is defined }}][{{ d.missing }}][{{ none.x }}][{{ d['nope'] }}][{{ [1][5] }}])J",
     R"J({"d": {}})J", R"J([][False][][][][])J"},
    {"literals",
     R"J({{ {'a': [1, (2, 3)], 'b': {'c': none}} | tojson }} {{ (1, 2) | list }} {{ '{{' }})J",
     R"J({})J", R"J({"a": [1, [2, 3]], "b": {"c": null}} [1, 2] {{)J"},
    {"unary_minus_then_filter", R"J({{ -1 | abs }} {{ -(3) }} {{ not true and false }})J",
     R"J({})J", R"J(1 -3 False)J"},
    {"messages_like_chat",
     R"J({% for m in messages %}{{ '<' + m['role'] + '>' + m.content }}{% if not loop.last %}
{% endif %}{% endfor %})J",
     R"J({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]})J",
     R"J(<user>hi<assistant>yo)J"},
    {"is_defined_and_rebinding",
     R"J({% for t in calls %}{% if t.function is defined %}{% set t = t.function %}{% endif %}{{ t.name }};{% endfor %})J",
     R"J({"calls": [{"function": {"name": "f"}}, {"name": "g"}]})J", R"J(f;g;)J"},
    {"dict_builtin_and_range",
     R"J({{ dict(a=1, b='x') | tojson }} {{ range(3) | list }} {{ range(1, 7, 2) | list }} {{ range(3, 0, -1) | list }})J",
     R"J({})J", R"J({"a": 1, "b": "x"} [0, 1, 2] [1, 3, 5] [3, 2, 1])J"},
    {"percent_format", R"J({{ '%s-%d|%r %%' % ('a', 3, 'q') }} {{ 'x=%s' % 5 }})J", R"J({})J",
     R"J(a-3|'q' % x=5)J"},
    {"none_optional_args",
     R"J({{ [1, 2] | join(', ', attribute=None) }} {{ [2, 1] | sort(attribute=None) }} {{ none | default('x') }})J",
     R"J({})J", R"J(1, 2 [1, 2] None)J"},
    {"pattern_think_split",
     R"J({% set content = m.content %}{% if '</think>' in content %}{% set reasoning = content.split('</think>')[0].rstrip('
').split('<think>')[-1].lstrip('
') %}{% set content = content.split('</think>')[-1].lstrip('
') %}{% endif %}[{{ reasoning }}][{{ content }}])J",
     R"J({"m": {"content": "<think>\nplan\n</think>\n\nanswer"}})J", R"J([plan][answer])J"},
    {"pattern_last_query_index",
     R"J({% set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}{% for message in messages[::-1] %}{% set index = (messages|length - 1) - loop.index0 %}{% if ns.multi_step_tool and message.role == 'user' and not(message.content.startswith('<tool_response>') and message.content.endswith('</tool_response>')) %}{% set ns.multi_step_tool = false %}{% set ns.last_query_index = index %}{% endif %}{% endfor %}{{ ns.last_query_index }})J",
     R"J({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}, {"role": "user", "content": "<tool_response>x</tool_response>"}]})J",
     R"J(0)J"},
    {"pattern_llama_builtin_tools",
     R"J({{- 'Tools: ' + builtin_tools | reject('equalto', 'code_interpreter') | join(', ') + '

' }}{% if not date_string is defined %}{% set date_string = '26 Jul 2024' %}{% endif %}{{ date_string }})J",
     R"J({"builtin_tools": ["brave_search", "code_interpreter", "wolfram_alpha"]})J",
     R"J(Tools: brave_search, wolfram_alpha

26 Jul 2024)J"},
    {"pattern_recursive_macro",
     R"J({% macro py_type(t) %}{% if t is string %}{% if t == 'integer' %}int{% else %}str{% endif %}{% elif t is mapping and t.type == 'array' %}list[{{ py_type(t['items']) }}]{% else %}Any{% endif %}{% endmacro %}{{ py_type({'type': 'array', 'items': {'type': 'array', 'items': 'integer'}}) }} {{ py_type('integer') }})J",
     R"J({})J", R"J(list[list[int]] int)J"},
    {"pattern_tool_args_items",
     R"J({% for tool_call in calls %}{% for arg_name, arg_val in tool_call.arguments | items %}{{ arg_name }}={{ arg_val | tojson if arg_val is not string else arg_val }};{% endfor %}{% endfor %})J",
     R"J({"calls": [{"arguments": {"city": "Paris", "days": 3, "opts": {"u": "C"}}}]})J",
     R"J(city=Paris;days=3;opts={"u": "C"};)J"},
    {"pattern_alternating_roles",
     R"J({% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}bad{% else %}{{ message['role'][0] }}{% endif %}{% endfor %})J",
     R"J({"messages": [{"role": "user"}, {"role": "assistant"}, {"role": "assistant"}]})J",
     R"J(uabad)J"},
    {"pattern_content_blocks",
     R"J({% for m in messages %}{% if m.content is string %}{{ m.content }}{% else %}{% for c in m.content | selectattr('type', 'eq', 'text') %}{{ c.text | trim }}{% endfor %}{{ m.content | selectattr('type', 'equalto', 'image') | list | length }}{% endif %}{% endfor %})J",
     R"J({"messages": [{"content": "s"}, {"content": [{"type": "image"}, {"type": "text", "text": " t "}]}]})J",
     R"J(st1)J"},
    {"pattern_indented_template",
     R"J({%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}
{{- bos_token }}
{%- for message in loop_messages %}
    {%- if message['role'] == 'user' %}
        {%- if loop.last and system_message is defined %}
            {{- '[INST] ' + system_message + '\n\n' + message['content'] + '[/INST]' }}
        {%- else %}
            {{- '[INST] ' + message['content'] + '[/INST]' }}
        {%- endif %}
    {%- elif message['role'] == 'assistant' %}
        {{- ' ' + message['content'] + eos_token}}
    {%- endif %}
{%- endfor %}
)J",
     R"J({"bos_token": "<s>", "eos_token": "</s>", "messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "u1"}, {"role": "assistant", "content": "a1"}, {"role": "user", "content": "u2"}]})J",
     R"J(<s>[INST] u1[/INST] a1</s>[INST] S

u2[/INST])J"},
    {"pattern_plain_template_whitespace",
     R"J({% for message in messages %}
{% if message['role'] == 'user' %}
{{ '<|user|>
' + message['content'] + eos_token }}
{% elif message['role'] == 'assistant' %}
{{ '<|assistant|>
'  + message['content'] + eos_token }}
{% endif %}
{% if loop.last and add_generation_prompt %}
{{ '<|assistant|>' }}
{% endif %}
{% endfor %})J",
     R"J({"eos_token": "</s>", "add_generation_prompt": true, "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}, {"role": "user", "content": "q"}]})J",
     R"J(<|user|>
hi</s>
<|assistant|>
yo</s>
<|user|>
q</s>
<|assistant|>
)J"},
    {"tuples",
     R"J({{ (1, 2) }} {{ (1,) }} {{ () }} {{ d | dictsort }} {{ d.items() | list }} {{ (1, 2) == [1, 2] }} {{ (1, 2) | list }} {{ (1, 2, 3)[1:] }} {{ ('a', 'b') | join }} {% set t = 1, 'x' %}{{ t }} {{ (1, 2) | tojson }})J",
     R"J({"d": {"b": 1, "a": 2}})J",
     R"J((1, 2) (1,) () [('a', 2), ('b', 1)] [('b', 1), ('a', 2)] False [1, 2] (2, 3) ab (1, 'x') [1, 2])J"},
    {"python_number_semantics",
     R"J({{ 1 // 0.1 }} {{ -7.5 // 2 }} {{ 7.5 % -2 }} {{ true is even }} {{ 3.0 is odd }} {{ 7 | round(1) }} {{ false | round }} {{ 2.675 | round(2) }} {{ 10 / 4 }} {{ 2 ** -1 }})J",
     R"J({})J", R"J(9.0 -4.0 -0.5 False True 7 0 2.67 2.5 0.5)J"},
    {"undefined_through_filters",
     R"J([{{ missing | upper }}][{{ missing | join(',') }}][{{ missing | list }}][{{ missing | items | list }}][{{ missing is sequence }}][{{ missing | default(none) }}])J",
     R"J({})J", R"J([][][[]][[]][True][None])J"},
};

std::string render(const std::string& source, const char* context = "{}") {
    Variables vars;
    const auto parsed = nlohmann::ordered_json::parse(context);
    for (const auto& [k, v] : parsed.items()) {
        vars.emplace_back(k, Value::from_json(v));
    }
    return Template::parse(source).render(vars);
}

class JinjaCase : public ::testing::TestWithParam<Case> {};

TEST_P(JinjaCase, MatchesJinja2) {
    const Case& c = GetParam();
    EXPECT_EQ(render(c.source, c.context), c.expected);
}

INSTANTIATE_TEST_SUITE_P(Features, JinjaCase, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& info) {
                             return std::string(info.param.name);
                         });

std::string error_of(const std::string& source, const char* context = "{}") {
    try {
        render(source, context);
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(JinjaErrors, SyntaxErrorsGiveLineAndColumn) {
    EXPECT_EQ(error_of("{% for x in y %}\n{{ x }}\n{% endif %}"),
              "chat template:3:4: unexpected 'endif'");
    EXPECT_EQ(error_of("ab\n  {% endfor %}"), "chat template:2:6: unexpected 'endfor'");
    EXPECT_EQ(error_of("{% for x in y %}{{ x }}"),
              "chat template:1:24: unexpected end of template, expected 'endfor' or 'else'");
    EXPECT_EQ(error_of("{% frobnicate %}"), "chat template:1:4: unknown tag 'frobnicate'");
    EXPECT_EQ(error_of("{{ 1 + }}"), "chat template:1:8: unexpected '}}', expected an expression");
    EXPECT_EQ(error_of("{{ 'abc }}"), "chat template:1:4: unterminated string");
    EXPECT_EQ(error_of("x {{ a b }}"), "chat template:1:8: unexpected 'b', expected '}}'");
    EXPECT_EQ(error_of("{% if x %}{% break %}{% endif %}"),
              "chat template:1:14: 'break' outside of a loop");
    EXPECT_EQ(error_of("{# open comment"), "chat template:1:1: missing end of comment tag");
    EXPECT_EQ(error_of("{{ x | nosuchfilter }}"),
              "chat template:1:8: no filter named 'nosuchfilter'");
    EXPECT_EQ(error_of("{{ x is nosuchtest }}"), "chat template:1:6: no test named 'nosuchtest'");
}

TEST(JinjaErrors, RuntimeErrorsGiveLineAndColumn) {
    EXPECT_EQ(error_of("line\n{% if true %}\n  {{ y.z }}\n{% endif %}"),
              "chat template:3:7: 'y' is undefined");
    EXPECT_EQ(error_of("{{ d.a.b }}", R"({"d": {}})"),
              "chat template:1:7: 'dict object' has no attribute 'a'");
    EXPECT_EQ(error_of("{{ 'a' + 1 }}"),
              "chat template:1:8: can only concatenate str (not \"int\") to str");
    EXPECT_EQ(error_of("{% for x in 5 %}{% endfor %}"),
              "chat template:1:13: 'int' object is not iterable");
    EXPECT_EQ(error_of("{{ m.content + 'x' }}", R"({"m": {"content": null}})"),
              "chat template:1:14: unsupported operand type(s) for +: 'NoneType' and 'str'");
    EXPECT_EQ(error_of("{{ 1 // 0 }}"), "chat template:1:6: integer division or modulo by zero");
    EXPECT_EQ(error_of("{{ missing() }}"), "chat template:1:4: 'missing' is undefined");
    EXPECT_EQ(error_of("{% set n = 1 %}{% set n.x = 2 %}"),
              "chat template:1:19: cannot assign attribute on non-namespace object 'n'");
}

TEST(JinjaErrors, RaiseExceptionCarriesTheTemplateMessage) {
    EXPECT_EQ(
        error_of("a{{ raise_exception('Conversation roles must alternate user/assistant') }}"),
        "Conversation roles must alternate user/assistant");
}

TEST(JinjaGlobals, StrftimeNowFormatsTheCurrentTime) {
    const std::string year = render("{{ strftime_now('%Y') }}");
    ASSERT_EQ(year.size(), 4u);
    const int y = std::stoi(year);
    EXPECT_GE(y, 2024);
    EXPECT_EQ(render("{{ strftime_now('%%') }}"), "%");
}

TEST(JinjaValues, ListAppendMutatesTheSharedList) {
    // The immutable sandbox would refuse this; templates written for other engines use it.
    EXPECT_EQ(render("{% set xs = [] %}{% for i in range(3) %}{% set _ = xs.append(i * 2) %}{% "
                     "endfor %}{{ xs }}"),
              "[0, 2, 4]");
}

TEST(JinjaValues, FromJsonKeepsKeyOrderAndTypes) {
    const auto j =
        nlohmann::ordered_json::parse(R"({"z": 1, "a": [true, null, 2.5, "s"], "m": {}})");
    const Value v = Value::from_json(j);
    EXPECT_EQ(v.to_json(), R"({"z": 1, "a": [true, null, 2.5, "s"], "m": {}})");
    EXPECT_EQ(v.to_str(), "{'z': 1, 'a': [True, None, 2.5, 's'], 'm': {}}");
}

TEST(JinjaValues, FloatReprMatchesPython) {
    EXPECT_EQ(format_float(1.0), "1.0");
    EXPECT_EQ(format_float(0.1), "0.1");
    EXPECT_EQ(format_float(1e16), "1e+16");
    EXPECT_EQ(format_float(123456789012345.0), "123456789012345.0");
    EXPECT_EQ(format_float(0.0001), "0.0001");
    EXPECT_EQ(format_float(0.00001), "1e-05");
    EXPECT_EQ(format_float(-2.5e-10), "-2.5e-10");
}

TEST(JinjaTemplate, RendersRepeatedlyAndConcurrentlySafe) {
    const Template t = Template::parse(
        "{% set ns = namespace(c=0) %}{% for m in xs %}{% set ns.c = ns.c + m %}{% endfor %}{{ "
        "ns.c }}");
    const Variables vars = {{"xs", Value(List{Value(1), Value(2)})}};
    EXPECT_EQ(t.render(vars), "3");
    EXPECT_EQ(t.render(vars), "3");
}

}  // namespace
}  // namespace ovllm::jinja

namespace ovllm::jinja {
namespace {

TEST(JinjaLimits, DeepRecursionAndNestingEndInErrors) {
    EXPECT_EQ(error_of("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"),
              "chat template:1:20: maximum recursion depth exceeded in macro calls");
    const std::string deep_parens =
        "{{ " + std::string(1000, '(') + "1" + std::string(1000, ')') + " }}";
    EXPECT_NE(error_of(deep_parens).find("nesting deeper than 200 levels"), std::string::npos);
    std::string deep_json;
    for (int i = 0; i < 5000; ++i) deep_json += "[";
    for (int i = 0; i < 5000; ++i) deep_json += "]";
    EXPECT_THROW(Value::from_json(nlohmann::ordered_json::parse(deep_json)), EvalError);
}

// Found by fuzz/fuzz_jinja: numbers beyond 64 bits or a double's range threw std::out_of_range
// from stoll / stod, which escaped the template's error handling.
TEST(JinjaLimits, HugeNumbersAreErrorsOrInfinity) {
    EXPECT_EQ(error_of("{{ x.99999999999999999999 }}"),
              "chat template:1:6: integer literal out of range");
    EXPECT_EQ(render("{{ 1e999 }} {{ -1e999 }}"), "inf -inf");
    EXPECT_NO_THROW(render("{{ [[1, 2]] | map(attribute='99999999999999999999') | list }}"));
    // Python's integers are unbounded; past 64 bits (undefined behaviour in C++) is an error.
    for (const char* overflow :
         {"{{ 9223372036854775807 + 1 }}", "{{ 2 ** 63 }}", "{{ -(-9223372036854775807 - 1) }}",
          "{{ 4294967296 * 4294967296 }}", "{{ (-9223372036854775807 - 1) // -1 }}"}) {
        EXPECT_NE(error_of(overflow).find("integer overflow"), std::string::npos) << overflow;
    }
    EXPECT_EQ(render("{{ 2 ** 62 }} {{ (-2) ** 63 }} {{ 1 ** 9223372036854775807 }}"),
              "4611686018427387904 -9223372036854775808 1");
    EXPECT_NE(error_of("{{ 1e999 | int }}").find("int of inf does not fit in a 64-bit integer"),
              std::string::npos);
    EXPECT_NE(error_of("{{ '%d' % 1e300 }}").find("does not fit"), std::string::npos);
}

// Found by fuzz/fuzz_jinja (LeakSanitizer): `{% set ns.n = ns %}` made a namespace hold itself,
// a shared_ptr cycle that leaked on every render. Python's garbage collector frees such
// cycles; here making one is an error instead.
TEST(JinjaLimits, ReferenceCyclesAreRefused) {
    EXPECT_EQ(error_of("{% set ns = namespace(n=0) %}{% set ns.n = ns %}"),
              "chat template:1:33: cannot assign namespace 'ns' into itself");
    EXPECT_NE(
        error_of("{% set ns = namespace() %}{% set ns.x = {'a': [ns]} %}").find("into itself"),
        std::string::npos);
    EXPECT_NE(error_of("{% set xs = [] %}{% set _ = xs.append(xs) %}").find("into itself"),
              std::string::npos);
    EXPECT_NE(error_of("{% set a = [] %}{% set b = [a] %}{% set _ = a.append(b) %}")
                  .find("cannot append a list into itself"),
              std::string::npos);
    // A caller kept past its call block held the block's scopes, and so the namespace keeping
    // it (found by fuzz/fuzz_jinja after the fix above): its scopes go when the block ends.
    EXPECT_EQ(error_of("{% set ns = namespace() %}{% macro m() %}{% set ns.c = caller %}{{ "
                       "caller() }}{% endmacro %}{% call m() %}in{% endcall %}{{ ns.c() }}"),
              "chat template:1:127: caller() called after its call block ended");
    // Sharing without a cycle stays allowed.
    EXPECT_EQ(render("{% set a = [1] %}{% set _ = a.extend(a) %}{% set b = [a, a] %}{% set ns = "
                     "namespace() %}{% set ns.x = b %}{{ ns.x }}"),
              "[[1, 1], [1, 1]]");
}

}  // namespace
}  // namespace ovllm::jinja
