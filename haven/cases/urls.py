from django.urls import path

from haven.cases import views

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_new, name="new"),
    path("from-request/<int:submission_id>/", views.case_from_submission, name="from_submission"),
    path("<int:case_id>/", views.case_detail, name="case"),
    path("<int:case_id>/edit/", views.case_edit, name="edit"),
    path("<int:case_id>/move/", views.case_move, name="move"),
    path("<int:case_id>/reopen/", views.case_reopen, name="reopen"),
    path("<int:case_id>/assign/", views.case_assign, name="assign"),
    path("<int:case_id>/team/", views.case_team, name="team"),
    path("<int:case_id>/incidents/new/", views.incident_new, name="incident_new"),
    path("<int:case_id>/assessments/new/", views.assessment_new, name="assessment_new"),
    path("<int:case_id>/actions/new/", views.action_new, name="action_new"),
    path("<int:case_id>/follow-ups/new/", views.follow_up_new, name="follow_up_new"),
    path("<int:case_id>/notes/new/", views.note_new, name="note_new"),
    path("<int:case_id>/update/", views.send_update, name="send_update"),
    path("actions/<int:action_id>/", views.action_detail, name="action"),
    path("<int:case_id>/relocation/", views.relocation_plan, name="relocation"),
    path(
        "relocation-tasks/<int:task_id>/done/", views.relocation_task_done, name="relocation_task"
    ),
    path("handover/", views.handover, name="handover"),
    path("handover/<int:membership_id>/", views.handover_officer, name="handover_officer"),
    path("handover/<int:membership_id>/packet/", views.handover_packet, name="handover_packet"),
]
