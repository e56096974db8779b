"""The local model's JSON grammar: strings never hold raw control characters.

llama-cpp-python's JSON-schema converter lets them in; a small model that writes a raw
line break inside a string then fails strict validation ("control character
(\\u0000-\\u001F) found while parsing a string") every time it is asked, at temperature 0.
"""

import json

import pytest

from llm.providers import local

SCHEMA = {
    "type": "object",
    "properties": {"poem": {"type": "string", "maxLength": 60}},
    "required": ["poem"],
}


def test_the_grammar_keeps_control_characters_out_of_strings():
    from analysis.analyser import _reply_schema

    schema = json.dumps(_reply_schema(["She have two brother."]).model_json_schema())
    text = local.json_grammar_text(schema)
    (char_rule,) = [line for line in text.splitlines() if line.startswith("char ::=")]
    assert char_rule.startswith(r'char ::= [^"\\\x7F\x00-\x1F] |')
    assert local.json_grammar(schema) is not None  # llama.cpp parses it


@pytest.mark.local_model
def test_a_model_pushed_towards_line_breaks_still_writes_valid_json():
    """A logit bias makes a raw line break the model's favourite token: the library's own
    grammar lets it into the string (the reply no longer parses); ours does not."""
    from llama_cpp.llama_grammar import LlamaGrammar, json_schema_to_gbnf

    model = local.LocalProvider()._llama()
    (newline,) = model.tokenize(b"\n", add_bos=False, special=False)

    def reply(grammar):
        response = model.create_chat_completion(
            messages=[{"role": "user", "content": "Write a poem about the sea."}],
            temperature=0,
            max_tokens=40,
            grammar=grammar,
            logit_bias={newline: 50.0},
        )
        return response["choices"][0]["message"]["content"]

    loose = LlamaGrammar.from_string(json_schema_to_gbnf(json.dumps(SCHEMA)), verbose=False)
    assert "\n" in reply(loose)  # the root of the failure, in the library
    text = reply(local.json_grammar(json.dumps(SCHEMA)))
    assert "\n" not in text
    assert set(json.loads(text)) == {"poem"}
