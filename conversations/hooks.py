"""What the chat announces to later stages, and what it asks of them (subscribers and
providers are declared in config/flow.py). Each hook is called with the conversation's
id once the change is committed."""

from core.hooks import Hook, Slot

# A learner message was stored (also the first message of a new conversation).
message_posted = Hook("conversation message posted")
# The conversation was ended (the End button, the API, or an idle timeout).
conversation_ended = Hook("conversation ended")
# Enough turns left the context window unsummarised: the rolling summary is due.
summary_due = Hook("conversation summary due")

# The tutor's corrections come from the analysis, never from the model, so that what the
# chat says and the marks on the learner's message agree. Both answer a
# conversations.tutoring.Correction, or None when nothing above the precision bar was found.
# message_correction(message_id): the stored analysis of a learner message (the check
# that marks it, run now if it has not run yet).
message_correction = Slot("message correction", lambda message_id: None)
# text_correction(text, user): the same model-free pass over a text the learner quotes
# ("Why is 'He go to school' wrong?"), stored nowhere.
text_correction = Slot("text correction", lambda text, user: None)

# practice_items(request, user): a conversations.tutoring.Practice of verified items (the
# lesson builder's) for "give me practice questions ...", or None when none can be built.
practice_items = Slot("practice items", lambda request, user: None)
