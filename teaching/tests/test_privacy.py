"""The learner's data: a private conversation's purge, export, and account deletion."""

from django.contrib.auth import get_user_model

from conftest import PASSWORD
from conversations.models import Conversation
from llm.models import LLMCall
from teaching.models import CollectionItem, Module, ModuleStatus, PurgeLog
from teaching.services import learning
from teaching.services import review as reviews
from teaching.services.privacy import conversation_purge_raw
from teaching.tests.helpers import module_row


def chat(user, *, keep=True) -> Conversation:
    conversation = Conversation.objects.create(owner=user, title="Chat", keep_raw_messages=keep)
    conversation.messages.create(seq=1, role="user", content="Yesterday I go to the market.")
    conversation.messages.create(seq=2, role="assistant", content="What did you buy?")
    return conversation


def test_purge_removes_raw_chat_keeps_lessons_and_is_safe_to_rerun(alice):
    conversation = chat(alice, keep=False)
    module = module_row(alice, conversation=conversation)
    item = learning.collection_save(learner=alice, module_id=module.pk)
    assert reviews.review_problems(item)  # a review's items quote the learner's sentences
    first = conversation_purge_raw(conversation=conversation)
    again = conversation_purge_raw(conversation=conversation)
    assert conversation.messages.count() == 0
    assert (first.messages_removed, again.messages_removed) == (2, 0)
    assert Module.objects.filter(pk=module.pk).exists() and CollectionItem.objects.exists()
    assert CollectionItem.objects.get().review == {}
    assert PurgeLog.objects.filter(conversation_id_ref=conversation.pk).count() == 2


def test_export_has_everything_of_the_learner_and_nothing_of_others(alice, bob, api):
    mine = chat(alice)
    chat(bob)
    module = module_row(alice, conversation=mine)
    hidden = module_row(alice, status=ModuleStatus.REJECTED, n=2, title="Hidden lesson")
    learning.collection_save(learner=alice, module_id=module.pk, notes="my note")
    response = api.get("/api/v1/me/export")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    data = response.json()
    assert data["user"]["username"] == "alice"
    rows = data["data"]
    assert [c["title"] for c in rows["conversations.Conversation"]] == ["Chat", "Chat 2"]
    assert {m["content"] for m in rows["conversations.Message"]} == {
        "Yesterday I go to the market.",
        "What did you buy?",
    }
    assert [m["id"] for m in rows["teaching.Module"]] == [module.pk]
    assert hidden.pk not in [m["id"] for m in rows["teaching.Module"]]
    assert rows["teaching.CollectionItem"][0]["notes"] == "my note"
    assert rows["accounts.LearnerProfile"][0]["target_language"] == "en"
    assert "teaching.ValidationReport" not in rows
    assert "password" not in str(data["user"])


def test_export_page_downloads_the_same_data(alice, client):
    chat(alice)
    client.force_login(alice)
    response = client.get("/account/data/export")
    assert response["Content-Type"] == "application/json"
    assert b"Yesterday I go to the market." in response.content
    assert "Download my data" in client.get("/accounts/profile/").content.decode()


def test_account_deletion_needs_the_password_and_deletes_everything(alice, bob, api):
    conversation = chat(alice)
    module = module_row(alice, conversation=conversation)
    learning.collection_save(learner=alice, module_id=module.pk)
    LLMCall.objects.create(user=alice, task="chat", kind="stream", provider="scripted", model="m")
    bobs = chat(bob)
    assert api.post("/api/v1/me/delete", {"password": "wrong"}, format="json").status_code == 400
    assert api.post("/api/v1/me/delete", {"password": PASSWORD}, format="json").status_code == 204
    assert not get_user_model().objects.filter(username="alice").exists()
    assert not Conversation.objects.filter(owner_id=alice.pk).exists()
    assert not Module.objects.exists() and not CollectionItem.objects.exists()
    assert not LLMCall.objects.filter(user_id=alice.pk).exists()
    assert bobs.messages.count() == 2


def test_account_deletion_page_confirms_then_signs_out(alice, client):
    chat(alice)
    client.force_login(alice)
    page = client.post("/account/data/delete", {"password": PASSWORD})
    assert page.status_code == 200 and get_user_model().objects.filter(pk=alice.pk).exists()
    done = client.post("/account/data/delete", {"password": PASSWORD, "confirm": "on"}, follow=True)
    assert "Your account and all of your data were deleted." in done.content.decode()
    assert not get_user_model().objects.filter(pk=alice.pk).exists()
    assert client.get("/lessons/").status_code == 302


def test_purge_removes_the_per_utterance_analyses_and_keeps_the_clusters(alice):
    from analysis.models import ErrorCluster, UtteranceAnalysis
    from teaching.tests.analysed import analysed_conversation

    conversation = analysed_conversation(alice, counts={"verb_tense": 3}, keep_raw=False)
    other = analysed_conversation(alice, counts={"verb_tense": 2}, title="Kept")
    log = conversation_purge_raw(conversation=conversation)
    assert (log.messages_removed, log.analyses_removed) == (6, 3)
    assert not UtteranceAnalysis.objects.filter(batch__conversation=conversation).exists()
    assert UtteranceAnalysis.objects.filter(batch__conversation=other).count() == 2
    cluster = ErrorCluster.objects.get(conversation=conversation)
    assert cluster.size == 3 and cluster.name  # the derived family stays
